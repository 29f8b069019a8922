"""KPI counts and medians for a cohort, overall or per dimension. Grain: one row per group."""
from __future__ import annotations

import datetime as dt
import functools
import time
from dataclasses import dataclass
from typing import Iterable

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection

from queries import summaries
from queries.dialect import dialect_of
from queries.filters import Filters, where
from queries.measures import (COUNT_COLUMNS, COUNT_NAMES, FIXED_NAMES, GROUPED_PERCENTILES, GROUPS, PERCENTILES,
                              TIMED, TIMES_CHANGED, bucket_of, changed_after, changed_events, counts, few_rows, flag,
                              flag_conditions, overdue_conditions, percentile_sql, timed_values)
from queries.metrics import BASES, METRICS, add_shares, needs, with_shares
from queries.run import bind, fetch, fetch_table, rows_column, run
from queries.summaries.lattice import month_end
from queries.viewer import Codes, Viewer


def kpi_sql(d, cond: str, group: str | None, percentiles: bool = True) -> str:
    """The plain approach: every KPI by one GROUP BY over appeals (the baseline of the summaries)."""
    key = f"{GROUPS[group].raw_key} as key, " if group else ""
    group_by = f" group by {GROUPS[group].raw_key}" if group else ""
    exprs = {**counts(flag_conditions()), **counts(overdue_conditions(":now")),
             **(percentile_sql(d, _percentile_columns(group)) if percentiles else {})}
    columns = ",\n  ".join(f"{expr} as {name}" for name, expr in exprs.items())
    return f"""
select {key}
  {columns}
from appeals a
  join municipalities m on m.id = a.municipality_id
  join topics t on t.id = a.topic_id
where {cond}{group_by}
"""


def kpi_frame(conn: Connection, filters: Filters, viewer: Viewer, now: dt.datetime, group: str | None = None,
              *, raw: bool = False, percentiles: bool = True, figures: Iterable[str] | None = None) -> pd.DataFrame:
    """KPIs of the filtered cohort; with `group`, one row per group value in column `key`.

    Columns: the counts above, medians in working hours (first response, escalation) and
    calendar days (closing), then every share of metrics.py with its `_n` and `_low` columns.
    A grouped frame carries the first-response median and 90th percentile only.
    `percentiles=False`: the same frame with every percentile left empty (NaN), for a page that
    shows counts and shares only; the response-time histograms are then not read.
    `figures`: only these figures of metrics.py (and the counts they are made of), reading only
    what they need: a count alone is one read of the cells.
    Read from the summary tables when they are built (see queries.summaries); `raw=True` reads
    the appeals table with one GROUP BY (the plain approach, kept as the reference).
    """
    plan = _Plan.of(figures, group, percentiles)
    dimensions = _dimensions(filters)
    # a few rows: one GROUP BY over them costs less than the cells' reads (bench.figures), and
    # gives the same figures whether or not the cells are built: decided before reading whether
    # they are, which would cost a statement more than the plain GROUP BY
    few = (not raw and summaries.eligible(viewer)
           and _rows_to_read(conn, filters) <= _raw_rows(conn, bool(plan.percentiles),
                                                         plan.index_only(dimensions, group), dimensions, group))
    # whether the summaries are built is read with the cells' counts (count_arrays' if_ready)
    c = None if few or raw or not summaries.eligible(viewer) else \
        summaries.count_arrays(conn, filters, viewer, group, if_ready=True, names=plan.stored)
    if not few and c is None:
        df = with_shares(_plain_frame(conn, filters, viewer, now, group,
                                       percentiles if figures is None else bool(plan.percentiles)))
        return df if figures is None else df[plan.columns(group)]
    if few:
        # percentiles from the rows' values bucketed as the cells are, the same figures either way
        if plan.percentiles and set(plan.counts) <= {"received"}:
            # the values' rows are the cohort's: one statement gives both (each reads the rows)
            pct, received = _row_percentiles(conn, filters, viewer, group, plan.percentiles)
            cols = {"key": pct["key"]} if group else {}
            cols["received"] = received
            for col in (*plan.percentiles, *plan.empty_percentiles):
                cols[col] = pct[col] if col in pct else np.full(len(received), np.nan)
            return _frame(cols, plan.shares)
        cols = _rows_frame(conn, filters, viewer, now, group, plan)
        if plan.percentiles:
            pct = _row_percentiles(conn, filters, viewer, group, plan.percentiles)[0]
            for col in plan.percentiles:
                cols[col] = _aligned(cols.get("key"), pct, col, np.nan)
        return _frame(cols, plan.shares)
    pend = summaries.pending_arrays(conn, filters, viewer, now, group) if plan.pending else None
    pct = _percentiles(conn, filters, viewer, group, plan.percentiles,
                       int(c[1][:, plan.stored.index("received")].sum())) if plan.percentiles else None
    cols = _assemble(c, pend, pct, group, plan)
    return _frame(cols, plan.shares)


def _frame(cols: dict[str, np.ndarray], shares: tuple[str, ...] | None) -> pd.DataFrame:
    """A KPI frame of its columns and shares, its arrays taken as they are. pd.DataFrame(dict)
    infers each object column's type and builds the labels' index (~0.2 ms, more than a few
    rows' statement: bench.figures); the arrays are made for the frame and already typed, so
    they are laid out directly (the constructor pandas' own from_records uses), a key column kept
    as the objects it holds."""
    cols = add_shares(cols, shares)
    n = len(next(iter(cols.values()), ()))
    return pd.DataFrame._from_arrays(list(cols.values()), columns=_labels(tuple(cols)), index=pd.RangeIndex(n),
                                     verify_integrity=False)


@functools.lru_cache(maxsize=256)
def _labels(names: tuple[str, ...]) -> pd.Index:
    """A frame's column labels, made once per set of names (an Index is immutable)."""
    return pd.Index(names)


@dataclass(frozen=True)
class _Plan:
    """What a KPI frame reads and shows: counts (with the pending appeals when a count past the
    deadline is among them), percentile columns, shares (None: all)."""
    counts: tuple[str, ...]
    pending: bool
    percentiles: tuple[str, ...]
    shares: tuple[str, ...] | None
    empty_percentiles: tuple[str, ...] = ()  # shown as NaN (percentiles=False)

    @classmethod
    def of(cls, figures: Iterable[str] | None, group: str | None, percentiles: bool) -> "_Plan":
        if figures is None:
            pct = tuple(_percentile_columns(group))
            return cls(COUNT_COLUMNS, True, pct if percentiles else (), None, () if percentiles else pct)
        figures = tuple(figures)
        counts = needs(figures)
        if group and "received" not in counts:  # a grouped frame's rows are the groups with appeals
            counts = ("received", *counts)
        return cls(counts, bool({"no_response_overdue", "overdue_now"} & set(counts)),
                   tuple(f for f in figures if f in PERCENTILES),
                   tuple(f for f in figures if f in METRICS and METRICS[f].is_share))

    @property
    def stored(self) -> tuple[str, ...]:
        """The cells' counts the plan reads (COUNT_NAMES' order, received first): its counts, and
        the unanswered ones its counts past the deadline are made of."""
        needed = set(self.counts) | {"received"} | ({"no_response", "no_response_open"} if self.pending else set())
        return tuple(n for n in COUNT_NAMES if n in needed)

    def index_only(self, dimensions: int, group: str | None) -> bool:
        """Whether the plan's rows, of a cohort filtered on `dimensions`, are counted from an index
        alone (INDEX_ONLY_ROWS)."""
        return not group and self.counts == ("received",) and not self.percentiles and dimensions <= 1

    def columns(self, group: str | None) -> list[str]:
        shares = [x for name in self.shares or () for x in (name, f"{name}_n", f"{name}_low")]
        bases = [b for b, parts in BASES.items() if set(parts) <= set(self.counts)]
        return (["key"] if group else []) + list(self.counts) + bases + list(self.percentiles) + shares


def _plain_frame(conn: Connection, filters: Filters, viewer: Viewer, now: dt.datetime, group: str | None,
                 percentiles: bool) -> pd.DataFrame:
    """kpi_frame's columns before the shares, by kpi_sql over the appeals."""
    d = dialect_of(conn)
    cond, params = where(filters, d, viewer)
    params["now"] = d.ts_param(now)
    df = run(conn, kpi_sql(d, cond, group, percentiles), params)
    for col in df.columns:
        if col != "key":
            df[col] = pd.to_numeric(df[col], errors="coerce")
    if not percentiles:
        for col in _percentile_columns(group):
            df[col] = np.nan
    return df


def _rows_frame(conn: Connection, filters: Filters, viewer: Viewer, now: dt.datetime, group: str | None,
                plan: "_Plan") -> dict[str, np.ndarray]:
    """The plan's counts ([key,] columns) of a cohort of few appeals by one GROUP BY over them
    (few_rows: the moderation flag probed per appeal), its percentile columns empty. Arrays, not
    a frame: for a few rows pandas would cost more than the statement."""
    d = dialect_of(conn)
    cond, params = where(filters, d, viewer)
    params["now"] = d.ts_param(now)
    exprs = {n: e for n, e in {**few_rows(flag_conditions()), **counts(overdue_conditions(":now"))}.items()
             if n in plan.counts or n == "received"}  # received: a select of nothing else is not one
    key, joins = (GROUPS[group].raw_key, GROUPS[group].raw_join) if group else ("", "")
    _, rows = fetch(conn, f"select {key + ' as key, ' if group else ''}"
                          f"{', '.join(f'{e} as {n}' for n, e in exprs.items())} from appeals a{joins} "
                          f"where {cond}" + (f" group by {key}" if group else ""), params)
    # column by column from the tuples: counts are never NULL (count() of a case)
    at, n = (1 if group else 0), len(rows)
    out = {"key": rows_column(rows, 0, object)} if group else {}
    for i, name in enumerate(exprs):
        out[name] = rows_column(rows, at + i, np.int64)
    for col in (*plan.percentiles, *plan.empty_percentiles):
        out[col] = np.full(n, np.nan)
    return out


def _percentile_columns(group: str | None) -> list[str]:
    """The percentiles a KPI frame carries: all of them, or for a grouped frame the first response's."""
    return list(GROUPED_PERCENTILES) if group else list(PERCENTILES)


# A cohort of at most this many appeals, filtered on at most one dimension, has its percentiles
# computed from its rows' values, bucketed as the cells are (the same figure either way): cheaper
# than merging its histogram cells. Filtered on two or more, its rows are found through one
# dimension's index among all of that dimension's rows, which may be many more: the cells then.
# A figure whose rows to read (_rows_to_read) are at most as many is computed from them whole.
# bench.figures measures where the two cross. A percentile's cells (histograms merged in Python)
# cost more than a count's, so rows stay cheaper for longer there (PERCENTILE_ROWS, a factor),
# and how much longer depends on the keys the cells are merged over (GROUP_PERCENTILE_ROWS, by
# grouping where measured, for a cohort filtered on one dimension). The rows' GROUP BY costs
# about 0.8 of the plain query's at any size, the cells a fixed amount that beats the plain query
# only from some size on: the limits are where the cells are clearly cheaper (rows 1.5 to 2 times
# the cells), not where the two cross. For a median on SQLite at 1 M: about 1 300 appeals
# ungrouped or by topic, 2 200 by source, 4 000 by territory (its cells are its settlements'
# summed); on PostgreSQL at 10 M, 6 000, and 20 000 by territory (a count's: 1 600 on SQLite, 4 000
# to 7 500 on PostgreSQL).
RAW_ROWS = {"sqlite": 1_600, "postgresql": 6_000}
PERCENTILE_ROWS = {"sqlite": 1.6, "postgresql": 1.0}
GROUP_PERCENTILE_ROWS = {"sqlite": {None: 0.8, "topic": 0.8, "source": 1.4, "territory": 2.5},
                         "postgresql": {"territory": 3.5}}
# The appeals received, alone and ungrouped, filtered on one dimension, are counted from the
# entries of that dimension's (key, received_at) index without reading a row: cheaper per
# appeal, so rows stay cheaper for longer (SQLite at 1 M: up to about 5 000).
INDEX_ONLY_ROWS = {"sqlite": 3.0, "postgresql": 1.0}
# A percentile of a cohort filtered on two or more dimensions comes from a crossed node's
# histograms, which cost more again (PostgreSQL at 10 M, one territory and two topics over a
# year: 9 to 12 ms from the cells, 5 from the rows' 16 600 index entries).
CROSSED_PERCENTILE_ROWS = {"sqlite": 1.0, "postgresql": 4.0}
_VOLUME_TTL = 600.0  # seconds a database's volumes by dimension (_volumes) are reused
_volumes_cache: dict[str, tuple[float, dict]] = {}


def _volumes(conn: Connection) -> dict:
    """Appeals per day over the whole history and in each month (`months`: the month's first day
    and its rate over its days that have day cells; `first`, `last`: the first and last such
    days), and each dimension value's share of all appeals, from the summaries' year and month
    cells (a few thousand rows), kept for _VOLUME_TTL per database."""
    key = conn.engine.url.render_as_string(hide_password=True)
    hit = _volumes_cache.get(key)
    if hit and time.monotonic() - hit[0] < _VOLUME_TTL:
        return hit[1]
    df = run(conn, "select dims, municipality_id, topic_id, source, organization_id, sum(received) as n "
                   "from agg_counts where grain = 'y' and dims in (0, 1, 2, 4, 8) "
                   "group by dims, municipality_id, topic_id, source, organization_id")
    total = float(df.loc[df["dims"] == 0, "n"].sum())
    first, last = conn.execute(text("select min(period), max(period) from agg_counts where dims = 0 and grain = 'd'")).one()
    months: dict[dt.date, float] = {}
    if first is not None:
        first, last = dt.date.fromisoformat(str(first)[:10]), dt.date.fromisoformat(str(last)[:10])
        for period, n in conn.execute(text("select period, sum(received) from agg_counts "
                                           "where dims = 0 and grain = 'm' group by period")).all():
            start = dt.date.fromisoformat(str(period)[:10])
            end = min(month_end(start), last)
            months[start] = float(n) / max((end - max(start, first)).days + 1, 1)
    days = (last - first).days + 1 if first is not None else 1
    share = {}
    for column, node in (("municipality_id", 1), ("topic_id", 2), ("source", 4), ("organization_id", 8)):
        part = df[df["dims"] == node]
        share[column] = dict(zip(part[column].tolist(), (part["n"] / max(total, 1.0)).tolist()))
    # before the first build nothing is known: not kept, and no cohort taken for a few rows
    out = {"per_day": total / days if total else float("inf"), "months": months, "first": first, "last": last,
           "share": share}
    if total:
        _volumes_cache[key] = (time.monotonic(), out)
    return out


def _period_appeals(vol: dict, date_from: dt.date, date_to: dt.date) -> float:
    """All appeals received in the period, estimated from its months' rates: the volume changes
    over the years (a recent year's can be half as much again as the history's average). The
    day after the last day cell (appeals still arriving, not yet summarised) at the latest
    month's rate; days before the first cell and later days have none."""
    if not vol["months"]:
        return vol["per_day"] * ((date_to - date_from).days + 1)
    n = 0.0
    if date_from <= vol["last"] + dt.timedelta(days=1) <= date_to:
        n += vol["months"][max(vol["months"])]
    day, date_to = max(date_from, vol["first"]), min(date_to, vol["last"])
    while day <= date_to:
        start = day.replace(day=1)
        end = min(month_end(start), date_to)
        n += vol["months"].get(start, 0.0) * ((end - day).days + 1)
        day = end + dt.timedelta(days=1)
    return n


def _raw_rows(conn: Connection, percentiles: bool, index_only: bool = False, dimensions: int = 1,
              group: str | None = None) -> float:
    """How many appeals a figure reads from its rows at most, rather than from the cells."""
    name = "postgresql" if dialect_of(conn).pg else "sqlite"
    if percentiles and dimensions > 1:
        return RAW_ROWS[name] * PERCENTILE_ROWS[name] * CROSSED_PERCENTILE_ROWS[name]
    if percentiles:
        return RAW_ROWS[name] * GROUP_PERCENTILE_ROWS[name].get(group, PERCENTILE_ROWS[name])
    return RAW_ROWS[name] * (INDEX_ONLY_ROWS[name] if index_only else 1)


def _dimensions(filters: Filters) -> int:
    """How many of the cohort's dimensions are filtered."""
    return sum(bool(x) for x in (filters.territories, filters.topics, filters.sources, filters.executors))


def _shares(conn: Connection, filters: Filters) -> dict[str, tuple[float, int]]:
    """Each filtered dimension's share of all appeals and how many values it selects."""
    vol = _volumes(conn)
    out = {}
    if filters.territories:
        ids = bind(conn, {"x": Codes("municipalities", tuple(filters.territories))})["x"]
        out["municipality_id"] = (sum(vol["share"]["municipality_id"].get(i, 0.0) for i in ids), len(ids))
    if filters.topics:
        ids = bind(conn, {"x": Codes("topics", tuple(filters.topics))})["x"]
        out["topic_id"] = (sum(vol["share"]["topic_id"].get(i, 0.0) for i in ids), len(ids))
    if filters.sources:  # the cells keep a source's code
        out["source"] = (sum(vol["share"]["source"].get(s, 0.0) for s in filters.sources), len(filters.sources))
    if filters.executors:
        out["organization_id"] = (sum(vol["share"]["organization_id"].get(int(e), 0.0) for e in filters.executors),
                                  len(filters.executors))
    return out


def _rows_to_read(conn: Connection, filters: Filters) -> float:
    """How many appeals one GROUP BY of this cohort reads, estimated from the summaries' volumes:
    the period's appeals through the most selective filtered dimension's index. On PostgreSQL
    that index carries the other dimensions (ix_appeals_*_cases) and the other filters are
    tested on its entries, which cost about what a row does: one territory and two topics over
    a year read 16 600 entries for 244 appeals, 4.9 ms, against 2.6 from the cells."""
    shares = [share for share, _ in _shares(conn, filters).values()]
    least = min(shares, default=1.0)
    if not least:
        return 0.0
    return _period_appeals(_volumes(conn), filters.date_from, filters.date_to) * least


def _percentiles(conn: Connection, filters: Filters, viewer: Viewer, group: str | None, columns: tuple[str, ...],
                 received: int) -> dict[str, np.ndarray]:
    """The percentile columns of the cohort ([key,] columns, as arrays): from its rows when the
    summaries' counts (`received`, the cohort's appeals) say it is small, else from the
    histogram cells."""
    if _dimensions(filters) <= 1 and received <= _raw_rows(conn, True, group=group):
        return _row_percentiles(conn, filters, viewer, group, columns)[0]
    hist = summaries.hist_arrays(conn, filters, viewer, group, sorted({PERCENTILES[col].metric for col in columns}))
    return summaries.hist_percentile_arrays(hist, columns, bool(group))


def _row_percentiles(conn: Connection, filters: Filters, viewer: Viewer, group: str | None,
                     columns: tuple[str, ...]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The percentile columns ([key,] columns, as arrays) from the cohort's rows' values, bucketed
    as the cells are (summaries.value_percentile_arrays), and the rows' count per key in the same order."""
    d = dialect_of(conn)
    metrics = sorted({PERCENTILES[col].metric for col in columns})
    cond, params = where(filters, d, viewer)
    key, joins = (GROUPS[group].raw_key, GROUPS[group].raw_join) if group else ("", "")
    values = timed_values(d)
    if d.pg:
        return _packed_percentiles(conn, cond, params, key, joins, {m: values[m] for m in metrics}, columns)
    _, rows = fetch(conn, f"select {key + ' as key, ' if group else ''}"
                          f"{', '.join(f'{values[m]} as h{m}' for m in metrics)} from appeals a{joins} "
                          f"where {cond}", params)
    # column by column from the tuples (NULL: NaN): an object array of them first cost as much
    # as the statement (3 000 values: 0.6 of 2.5 ms)
    n, at = len(rows), 1 if group else 0
    keys = rows_column(rows, 0, object) if group else None
    uniques, codes, pct = summaries.value_percentile_arrays(
        keys, {m: rows_column(rows, at + i, float) for i, m in enumerate(metrics)}, columns)
    if not group:
        return pct, np.array([n], dtype=np.int64)
    return {"key": uniques, **pct}, np.bincount(codes, minlength=len(uniques)).astype(np.int64)


def _packed_percentiles(conn: Connection, cond: str, params: dict, key: str, joins: str, values: dict[int, str],
                        columns: tuple[str, ...]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """_row_percentiles on PostgreSQL: a row per key, its appeals counted and each metric's
    measured values packed by the server as 8-byte doubles (float8send; NULLs left out), read as
    one buffer. A row per appeal cost psycopg2 a tuple and a float each, more than the plain
    query's whole percentile_cont (2 600 appeals: 1.4 ms). The same doubles, so the same figures.
    `values`: each metric's SQL (timed_values), as the caller took them."""
    packs = [f"string_agg(float8send(cast({sql} as double precision)), ''::bytea) as p{m}" for m, sql in values.items()]
    _, rows = fetch(conn, f"select {key + ' as key, ' if key else ''}count(*) as n, {', '.join(packs)} "
                          f"from appeals a{joins} where {cond}" + (f" group by {key}" if key else ""), params)
    at = 1 if key else 0
    coded = {}
    for i, m in enumerate(values):
        blobs = [bytes(r[at + 1 + i] or b"") for r in rows]
        coded[m] = (np.repeat(np.arange(len(rows)), [len(b) // 8 for b in blobs]),
                    np.frombuffer(b"".join(blobs), dtype=">f8").astype(np.float64))
    pct = summaries.coded_percentile_arrays(len(rows), coded, columns)
    received = rows_column(rows, at, np.int64)
    return ({"key": rows_column(rows, 0, object), **pct} if key else pct), received


def _aligned(keys: np.ndarray | None, frame: pd.DataFrame | dict[str, np.ndarray], column: str,
             fill=0.0) -> np.ndarray:
    """frame[column] placed on `keys` (frame, or a dict of arrays, has a `key` column), or its
    single value when ungrouped."""
    values = np.asarray(pd.to_numeric(frame[column]), dtype=float)
    if keys is None:
        return values[:1] if len(values) else np.array([fill])
    out = np.full(len(keys), fill, dtype=float)
    if len(values):
        idx = pd.Index(keys).get_indexer(np.asarray(frame["key"]))
        ok = idx >= 0
        out[idx[ok]] = values[ok]
    return out


def _assemble(c: tuple[np.ndarray | None, np.ndarray], pend: pd.DataFrame | dict[str, np.ndarray] | None,
              pct: pd.DataFrame | dict[str, np.ndarray] | None,
              group: str | None, plan: "_Plan") -> dict[str, np.ndarray]:
    """A KPI frame's columns (before the shares) from its pieces: the summaries' counts (keys and
    matrix, summaries.count_arrays), the pending appeals (None when the plan needs none) and the
    percentiles (None: not read)."""
    keys, stored = c
    n = len(stored) if group else 1
    if not len(stored):
        stored = np.zeros((n, len(plan.stored)), np.int64)
    count = {name: stored[:, i] for i, name in enumerate(plan.stored)}
    if pend is not None:
        pending = np.nan_to_num(_aligned(keys, pend, "pending")).astype(np.int64)
        pending_open = np.nan_to_num(_aligned(keys, pend, "pending_open")).astype(np.int64)
        count["no_response_overdue"] = count["no_response"] - pending
        count["overdue_now"] = count["no_response_open"] - pending_open
    out = {"key": keys} if group else {}
    out.update({name: count[name] for name in plan.counts})
    for col in plan.percentiles:
        out[col] = _aligned(keys, pct, col, np.nan) if pct is not None else np.full(n, np.nan)
    for col in plan.empty_percentiles:
        out[col] = np.full(n, np.nan)
    return out


def territory_frames(conn: Connection, filters: Filters, viewer: Viewer, now: dt.datetime,
                     territories: pd.DataFrame, shares: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The KPI frames per territory and per municipality (kpi_frame's "territory" and
    "municipality"), from one read of the municipalities' cells: a territory's counts and
    histograms are the sums of its own (a city's, of its districts'). The league needs both.
    `territories`: reference.territories (id, parent_id), which the league has read already.
    `shares=False`: counts and percentiles only, for a caller that adds the shares itself."""
    if not summaries.usable(conn, viewer):  # with shares either way: recomputing them changes nothing
        return kpi_frame(conn, filters, viewer, now, "territory"), kpi_frame(conn, filters, viewer, now, "municipality")
    c = summaries.counts(conn, filters, viewer, "municipality")
    pend = summaries.pending(conn, filters, viewer, now, "municipality")
    hist = summaries.histogram(conn, filters, viewer, "municipality", {PERCENTILES[col].metric
                                                                       for col in GROUPED_PERCENTILES})
    top = dict(zip(territories["id"].astype(int), territories["parent_id"].fillna(territories["id"]).astype(int)))

    def to_top(df: pd.DataFrame) -> pd.DataFrame:
        return df.assign(key=df["key"].astype(int).map(top))

    counts = to_top(c).groupby("key", as_index=False)[list(COUNT_NAMES)].sum()
    pending = to_top(pend).groupby("key", as_index=False)[["pending", "pending_open"]].sum()
    plan = _Plan.of(None, "territory", True)

    def frame(counts: pd.DataFrame, pending: pd.DataFrame, hist: pd.DataFrame) -> pd.DataFrame:
        arrays = (counts["key"].to_numpy(), counts[list(COUNT_NAMES)].to_numpy(np.int64))
        cols = _assemble(arrays, pending, summaries.hist_percentiles(hist, plan.percentiles, True), "territory", plan)
        return pd.DataFrame(add_shares(cols) if shares else cols)

    # histogram rows may repeat a key: hist_percentiles sums them
    return frame(counts, pending, to_top(hist)), frame(c, pend, hist)


# ---- like for like ------------------------------------------------------------------------------
#
# Resolved, closed, confirmed, rated, escalated and answered appeals grow with time: a period that
# ended yesterday has had a day to close its appeals, the period before it a month more. The
# previous period is therefore compared as it stood at the same age: every count and percentile
# judged at `as_of` (the current moment shifted back by the periods' distance), from the times the
# appeals and their timelines record (queries/measures.py writes each flag with its as-of form).
# docs/metrics.md states the rule.

AS_OF_PERCENTILES = [c for c in PERCENTILES if c != "first_response_median_calendar"]
# a previous period of at most this many appeals is read whole (kpi_as_of): above it, finding the
# changed appeals first is cheaper (bench: SQLite 1 M, 50 000 appeals read whole 0.9 s, found 0.1 s)
AS_OF_WHOLE_ROWS = 8_000


def kpi_as_of(conn: Connection, filters: Filters, viewer: Viewer, as_of: dt.datetime) -> pd.DataFrame:
    """The cohort's KPIs (one row, as kpi_frame's) as they stood at `as_of`: what had been answered,
    closed, confirmed and escalated by then.

    Through the summaries: the cohort's final counts and histograms from the cells, corrected by
    the appeals that changed after `as_of` (measures.changed_after, found from an index): each is
    taken away as it is and put back as it stood. Any other appeal is counted the same either way;
    of a year's previous period at 10 M appeals, 2 % changed after it. Percentiles then come from
    histograms, as every other page's. Without the summaries: one read of the cohort, each flag in
    its as-of form."""
    if not summaries.usable(conn, viewer):
        return _as_of_from_rows(conn, filters, viewer, as_of)
    d = dialect_of(conn)
    final = summaries.counts(conn, filters, viewer, None)
    cond, params = where(filters, d, viewer)
    params["asof"] = d.ts_param(as_of)
    then, now = flag_conditions(":asof", few=True), flag_conditions()
    values = timed_values(d)
    metrics = sorted({PERCENTILES[c].metric for c in AS_OF_PERCENTILES})
    events = {t.metric: t.event for t in TIMED.values()}
    columns = ([f"{flag(then[n])} - {flag(now[n])}" for n in FIXED_NAMES]
               + [flag(c) for c in overdue_conditions(":asof", ":asof").values()]
               + [x for m in metrics for x in (values[m], f"case when a.{events[m]} <= :asof then {values[m]} end")])
    # any superset of the changed appeals gives the same figures: a small cohort is read whole,
    # in one pass instead of finding its changed appeals first
    small = int(final["received"].iloc[0]) <= AS_OF_WHOLE_ROWS if len(final) else True
    if small:
        found = cond
    else:
        # the cohort's id bounds (measures.changed_events), read from the index its period is read
        # by (`+ 0`: PostgreSQL would walk the primary key from either end, past every appeal
        # outside the period)
        lo, hi = fetch(conn, f"select min(a.id + 0), max(a.id + 0) from appeals a where {cond}", params)[1][0]
        params["lo"], params["hi"] = lo or 0, hi or 0
        if d.pg:  # in statements of their own: as subqueries of one, the scan ran serially
            ids = {int(r[0]) for r in fetch(conn, f"select a.id from appeals a where {cond} and "
                                                  f"{TIMES_CHANGED.format(asof=':asof')}", params)[1]}
            ids |= {int(r[0]) for r in fetch(conn, f"select a.id from appeals a where {cond} and a.id in "
                                                   f"({changed_events(':asof', 'between :lo and :hi')})", params)[1]}
            # read by key as an array (as an IN list the planner took them for millions)
            found, params = "a.id = any(cast(:changed as bigint[]))", {
                "asof": params["asof"], "changed": "{" + ",".join(map(str, sorted(ids))) + "}"}
        else:
            found = f"a.id in (select a.id from appeals a where {cond} and {changed_after(':asof', 'between :lo and :hi')})"
    table = fetch_table(conn, f"select {', '.join(f'{c} as c{i}' for i, c in enumerate(columns))} "
                              f"from appeals a where {found}", params)
    ints = table[:, :len(FIXED_NAMES) + 2].astype(np.int64).sum(axis=0) if len(table) else \
        np.zeros(len(FIXED_NAMES) + 2, dtype=np.int64)
    cols = {n: np.array([int(final[n].iloc[0]) + int(ints[i])]) for i, n in enumerate(FIXED_NAMES)}
    cols["no_response_overdue"], cols["overdue_now"] = ints[-2:-1].copy(), ints[-1:].copy()
    hist = summaries.histogram(conn, filters, viewer, None, metrics)
    parts = [hist[["metric", "bucket", "n"]]] if len(hist) else []
    at = len(FIXED_NAMES) + 2
    for i, m in enumerate(metrics):  # the changed appeals' values: taken away as they are, put back as they were
        for column, sign in ((at + 2 * i, -1), (at + 2 * i + 1, 1)):
            v = table[:, column].astype(float) if len(table) else np.zeros(0)
            v = v[~np.isnan(v)]
            if len(v):
                parts.append(pd.DataFrame({"metric": m, "bucket": bucket_of(np.maximum(v, 0)), "n": sign}))
    long = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["metric", "bucket", "n"])
    pct = summaries.hist_percentiles(long, AS_OF_PERCENTILES, False)
    cols.update({c: pct[c].to_numpy(dtype=float) for c in AS_OF_PERCENTILES})
    cols["first_response_median_calendar"] = np.array([np.nan])
    return pd.DataFrame(add_shares(cols))


def _as_of_from_rows(conn: Connection, filters: Filters, viewer: Viewer, as_of: dt.datetime) -> pd.DataFrame:
    d = dialect_of(conn)
    cond, params = where(filters, d, viewer)
    params["asof"] = d.ts_param(as_of)
    exprs = {**counts(flag_conditions(":asof")), **counts(overdue_conditions(":asof", ":asof")),
             **percentile_sql(d, AS_OF_PERCENTILES, ":asof")}
    columns = ",\n  ".join(f"{expr} as {name}" for name, expr in exprs.items())
    df = run(conn, f"select\n  {columns}\nfrom appeals a\nwhere {cond}", params)
    for col in df.columns:
        df[col] = pd.to_numeric(df[col], errors="coerce")
    df["first_response_median_calendar"] = np.nan
    return with_shares(df)
