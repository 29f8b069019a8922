"""A Parquet copy of the appeals' columns that the benchmarks read, and DuckDB computing the
same figures in process: the columnar alternative that bench.figures and bench.pages time the
project against (DuckDB and pyarrow are benchmark-only dependencies: `pip install -e .[bench]`).
The copy is made once per database size, outside any timing, into bench/cache/."""
from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import text

from queries.cases import PAGE_SIZE, SORTS
from queries.filters import Filters
from queries.measures import UNANSWERED_OPEN
from queries.localtime import day_start

CACHE = Path(__file__).with_name("cache")


def series(df: pd.DataFrame, group: str | None) -> pd.Series:
    if group:
        return pd.Series(pd.to_numeric(df["value"]).to_numpy(float), index=df["key"].astype(str)).sort_index()
    return pd.Series([float(pd.to_numeric(df["value"]).iloc[0]) if len(df) else np.nan], index=["all"])


# The on-time share's parts as docs/metrics.md defines them (the `?` is now): an appeal whose
# response is not measured is neither on time, late nor overdue.
ON_TIME = "response_measured = 1 and first_response_at <= response_due_at"
ON_TIME_BASE = "response_measured = 1 and (first_response_at is not null or response_due_at < ?)"


class Columnar:
    """A Parquet copy of what the figures read, and DuckDB computing them in process."""

    COLUMNS = ("id", "received_at", "municipality_id", "territory_id", "topic_id", "category_id", "source",
               "organization_id", "status", "first_response_at", "response_due_at", "first_response_work_hours",
               "closed_at", "escalated_to_id", "escalation_work_hours", "reach", "response_measured", "text")

    def __init__(self, engine, name: str):
        import duckdb

        CACHE.mkdir(exist_ok=True)
        with engine.connect() as conn:
            n = conn.execute(text("select count(*) from appeals")).scalar_one()
            self.parents = {
                "municipalities": dict(conn.execute(text("select code, id from municipalities")).all()),
                "m_parent": dict(conn.execute(text("select id, coalesce(parent_id, id) from municipalities")).all()),
                "topics": dict(conn.execute(text("select code, id from topics")).all()),
                "t_parent": dict(conn.execute(text("select id, coalesce(parent_id, id) from topics")).all()),
            }
            # the names a case list shows (the project joins them too)
            names = {t: pd.read_sql(text(f"select id, name_ru from {t}"), conn)
                     for t in ("municipalities", "topics", "organizations")}
        self.path = CACHE / f"{name}-{n}-v3.parquet"  # v3: the case list's sort columns too
        started = time.perf_counter()
        if not self.path.exists():
            self._export(engine)
        self.export_seconds = time.perf_counter() - started
        self.db = duckdb.connect()
        self.db.execute(f"create view appeals as select * from read_parquet('{self.path}')")
        for table, frame in names.items():
            self.db.register(f"{table}_df", frame)
            self.db.execute(f"create table {table} as select * from {table}_df")

    def _export(self, engine) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        writer = None
        with engine.connect() as conn:
            lo, hi = conn.execute(text("select min(id), max(id) from appeals")).one()
            for start in range(int(lo), int(hi) + 1, 1_000_000):
                df = pd.read_sql(text("""select a.id, a.received_at, a.municipality_id,
                    coalesce(m.parent_id, m.id) as territory_id, a.topic_id, coalesce(t.parent_id, t.id) as category_id,
                    a.source, a.organization_id, a.status, a.first_response_at, a.response_due_at,
                    a.first_response_work_hours, a.closed_at, a.escalated_to_id, a.escalation_work_hours, a.reach,
                    a.response_measured, a.text
                    from appeals a join municipalities m on m.id = a.municipality_id join topics t on t.id = a.topic_id
                    where a.id >= :a and a.id < :b"""), conn, params={"a": start, "b": start + 1_000_000})
                for c in ("received_at", "first_response_at", "response_due_at", "closed_at"):
                    df[c] = pd.to_datetime(df[c], utc=True)
                table = pa.Table.from_pandas(df, preserve_index=False)
                writer = writer or pq.ParquetWriter(self.path.with_suffix(".partial"), table.schema)
                writer.write_table(table)
        writer.close()
        self.path.with_suffix(".partial").rename(self.path)

    def _ids(self, table: str, codes) -> list[int]:
        ids = {self.parents[table][c] for c in codes if c in self.parents[table]}
        parent = self.parents["m_parent" if table == "municipalities" else "t_parent"]
        return sorted(ids | {i for i, p in parent.items() if p in ids})

    def values(self, f: Filters, group: str | None, key: str) -> np.ndarray:
        """The first-response times of one group of the cohort, sorted (to judge a median's precision)."""
        conds, params = self._where(f)
        column = self._key(group)
        if column:
            conds.append(f"cast({column} as varchar) = ?")
            params.append(key)
        rows = self.db.execute(f"select first_response_work_hours from appeals where {' and '.join(conds)}"
                               " and first_response_work_hours is not null order by 1", params).fetchall()
        return np.array([r[0] for r in rows], dtype=float)

    @staticmethod
    def _key(group: str | None) -> str | None:
        return {None: None, "territory": "territory_id", "topic": "topic_id", "source": "source"}[group]

    def _where(self, f: Filters) -> tuple[list[str], list]:
        conds = ["received_at >= ? and received_at < ?"]
        params: list = [day_start(f.date_from), day_start(f.date_to + dt.timedelta(days=1))]
        for codes, column, table in ((f.territories, "municipality_id", "municipalities"),
                                     (f.topics, "topic_id", "topics")):
            if codes:
                conds.append(f"{column} in (select unnest(?))")
                params.append(self._ids(table, codes))
        if f.sources:
            conds.append("source in (select unnest(?))")
            params.append(list(f.sources))
        if f.executors:
            conds.append("organization_id in (select unnest(?))")
            params.append([int(x) for x in f.executors])
        return conds, params

    def figure(self, f: Filters, now: dt.datetime, measure: str, group: str | None) -> pd.Series:
        return series(self.figure_frame(f, now, measure, group), group)

    def figure_frame(self, f: Filters, now: dt.datetime, measure: str, group: str | None) -> pd.DataFrame:
        """The figure as DuckDB gives it: a frame of [key,] value."""
        conds, params = self._where(f)
        key = self._key(group)
        value = {
            "received": "count(*)",
            "resolved": "count(*) filter (where status = 'resolved')",
            "on_time_share": f"count(*) filter (where {ON_TIME}) * 1.0 / nullif(count(*) filter (where {ON_TIME_BASE}), 0)",
            "first_response_median": "quantile_cont(first_response_work_hours, 0.5)",
        }[measure]
        if measure == "on_time_share":
            params.insert(0, now)
        sql = (f"select {key + ' as key, ' if key else ''}{value} as value from appeals where {' and '.join(conds)}"
               + (f" group by {key}" if key else ""))
        return self.db.execute(sql, params).df()


    # ---- the pages' figures (bench.pages times them beside the project's pages) --------------------

    FIGURES = ("count(*) as received, count(*) filter (where status = 'resolved') as resolved, "
               f"count(*) filter (where {ON_TIME}) as on_time, count(*) filter (where {ON_TIME_BASE}) as on_time_base, "
               "count(*) filter (where closed_at is null and first_response_at is null and response_measured = 1 "
               "and response_due_at < ?) "
               "as overdue_now, quantile_cont(first_response_work_hours, 0.5) as first_response_median, "
               "quantile_cont(first_response_work_hours, 0.9) as first_response_p90")

    def _q(self, select: str, f: Filters, tail: str = "", before: list | None = None) -> pd.DataFrame:
        conds, params = self._where(f)
        return self.db.execute(f"select {select} from appeals where {' and '.join(conds)} {tail}",
                               (before or []) + params).df()

    # FIGURES as they stood at a moment (the previous period like for like, as kpi_as_of): what
    # had been answered and closed by then
    FIGURES_AS_OF = ("count(*) as received, count(*) filter (where status = 'resolved' and closed_at <= ?) as resolved, "
                     "count(*) filter (where response_measured = 1 and first_response_at <= ? "
                     "and first_response_at <= response_due_at) as on_time, "
                     "count(*) filter (where response_measured = 1 and (first_response_at <= ? "
                     "or response_due_at < ?)) as on_time_base, "
                     "count(*) filter (where (closed_at is null or closed_at > ?) and (first_response_at is null "
                     "or first_response_at > ?) and response_measured = 1 and response_due_at < ?) as overdue_now, "
                     "quantile_cont(first_response_work_hours, 0.5) filter (where first_response_at <= ?) "
                     "as first_response_median, "
                     "quantile_cont(first_response_work_hours, 0.9) filter (where first_response_at <= ?) "
                     "as first_response_p90")

    def _figures(self, f: Filters, now: dt.datetime, by: str | None = None) -> pd.DataFrame:
        return self._q((f"{by}, " if by else "") + self.FIGURES, f, f"group by {by}" if by else "", [now, now])

    def _as_of(self, f: Filters, asof: dt.datetime) -> pd.DataFrame:
        return self._q(self.FIGURES_AS_OF, f, "", [asof] * 9)

    def _bucket(self, grain: str) -> str:
        return f"date_trunc('{grain}', received_at + interval 7 hour)"

    def page(self, name: str, f: Filters, now: dt.datetime, grain: str, word: str,
             sort: str = "newest") -> list[pd.DataFrame]:
        """The figures the page `name` shows, computed here: its cards (and the previous period's as
        they stood at the same age: answered and closed by then; the verdicts' times are not copied),
        its breakdowns and its trend. The case list: its first page in the list's `sort`, with the
        names the list shows, and the cohort's count; search by substring, newest first."""
        fig = lambda flt, by=None: self._figures(flt, now, by)  # noqa: E731
        bucket = self._bucket(grain)
        trend = lambda flt, by="": self._q(f"{bucket} as b, {by + ', ' if by else ''}{self.FIGURES}", flt,  # noqa: E731
                                           "group by all order by 1", [now, now])
        prev = f.previous()
        then = now - (f.date_from - prev.date_from)  # the previous period at the same age, as the pages
        if name == "overview":
            closed = self.db.execute(
                f"select date_trunc('{grain}', closed_at + interval 7 hour) as b, count(*) from appeals "
                "where closed_at >= ? and closed_at < ? group by 1",
                [day_start(f.date_from), day_start(f.date_to + dt.timedelta(days=1))]).df()
            return [fig(f), self._as_of(prev, then), trend(f), closed, fig(f, "source"), fig(f, "topic_id"), fig(f, "municipality_id"),
                    fig(prev, "municipality_id"), fig(prev, "topic_id")]
        if name == "topics":
            return [fig(f, "topic_id"), trend(f, "topic_id")]
        if name == "territories":
            return [fig(f, "territory_id"), fig(f, "municipality_id"), fig(f.narrowed(territories=()))]
        if name == "executors":
            return [fig(f, "organization_id"), self._q(
                "organization_id, escalated_to_id, count(*) as n, quantile_cont(escalation_work_hours, 0.5) as h", f,
                "and escalated_to_id is not null group by all order by n desc")]
        if name == "speed":
            return [fig(f), self._as_of(prev, then), trend(f), self._q(
                "least(floor(first_response_work_hours), 48) as b, count(*) as n", f,
                "and first_response_work_hours is not null group by 1"), self._overdue(f, now)]
        if name == "cases":
            conds, params = self._where(f)
            return [self.db.execute(
                "select a.id, a.received_at, m.name_ru, t.name_ru, o.name_ru, a.source, a.status, a.response_due_at, "
                f"a.first_response_at, a.closed_at, case when {UNANSWERED_OPEN} and a.response_due_at < ? then 1 "
                "else 0 end as overdue, a.reach, a.escalated_to_id, left(a.text, 300) as text from appeals a "
                "join municipalities m on m.id = a.municipality_id join topics t on t.id = a.topic_id "
                "join organizations o on o.id = a.organization_id "
                f"where {' and '.join(conds)} order by {SORTS[sort]} limit {PAGE_SIZE}",
                [now] + params).df(), self._q("count(*)", f)]
        if name == "search":
            like = f"%{word}%"
            conds, params = self._where(f)
            where_sql = " and ".join(conds) + " and text ilike ?"
            return [self.db.execute(f"select id, received_at, left(text, 300) from appeals where {where_sql} "
                                    "order by received_at desc, id desc limit 20", params + [like]).df(),
                    self.db.execute(f"select count(*) from appeals where {where_sql}", params + [like]).df()]
        raise ValueError(name)

    def _overdue(self, f: Filters, now: dt.datetime) -> pd.DataFrame:
        conds, params = self._where(f)
        return self.db.execute(f"select id, received_at, response_due_at from appeals where {' and '.join(conds)} "
                               "and closed_at is null and first_response_at is null and response_due_at < ? "
                               "order by response_due_at limit 50", params + [now]).df()
