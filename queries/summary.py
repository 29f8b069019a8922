"""Summary tables: how they are built and refreshed, and a planner that answers KPI queries from them.

The lattice. A cell is a node (a subset of the four filterable dimensions: municipality, topic,
source, organization, as a bit mask `dims`), a grain (d: local day, m: month, y: year) and a
period. `agg_counts` holds every count of `kpis.FIXED_COUNTS` plus the unanswered counts for
all 16 nodes at all three grains; `agg_closed` the appeals closed per local day of closing;
`agg_hist` the time histograms (see BUCKETS) for the nodes of at most one dimension.

The planner. A query needs the node of its filtered and grouped dimensions. Its period is cut
into whole years, whole months and the remaining days (`pieces`), so that a long period reads a
few coarse cells and a short one a few fine ones. Counts are exact. The two counts that depend
on `now` (unanswered past the deadline) are the stored unanswered counts minus the unanswered
appeals whose deadline is still ahead — few, read through the partial index
ix_appeals_unanswered_due. Percentiles come from the histograms, exact to within one bucket;
for a node of two or more dimensions (no histogram is kept: it would be larger than the
appeals table) they are computed from the appeals, which the filters then narrow.

Freshness. `build` fills everything from `appeals`; `refresh(days)` recomputes the cells of the
given local days (and their months and years). The seeder and the importer call them in their
own transaction, so the summaries always match the appeals they were committed with.
`dataset_info.summaries = ready` tells the queries that they may use them.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from dataclasses import dataclass
from typing import Iterable

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection

from queries.dialect import Dialect, dialect_of
from queries.filters import Filters, where
from queries.kpis import CLOSED, FIXED_COUNTS, OPEN
from queries.run import run
from queries.viewer import Viewer

DIMS = {"municipality_id": 1, "topic_id": 2, "source": 4, "organization_id": 8}
EMPTY = {"municipality_id": "0", "topic_id": "0", "source": "''", "organization_id": "0"}
FULL = 15
NODES = sorted(range(16), key=lambda n: (-bin(n).count("1"), n))  # finest first: parents before children
HIST_NODES = (0, 1, 2, 4, 8)
GRAINS = ("d", "m", "y")
COUNT_NAMES = (*FIXED_COUNTS, "no_response", "no_response_open")
GROUP_DIM = {"territory": 1, "municipality": 1, "topic": 2, "category": 2, "source": 4, "executor": 8}
GROUP_KEY = {  # group → (key SQL over the summary alias c, join it needs)
    "territory": ("coalesce(m.parent_id, m.id)", "join municipalities m on m.id = c.municipality_id"),
    "municipality": ("c.municipality_id", ""),
    "topic": ("c.topic_id", ""),
    "category": ("coalesce(t.parent_id, t.id)", "join topics t on t.id = c.topic_id"),
    "source": ("c.source", ""),
    "executor": ("c.organization_id", ""),
}

# Histogram buckets, in minutes: (segment end, bucket width). One-minute buckets up to 8 hours,
# where first-response medians live; a quarter hour to 2 days; 2 hours to 2 weeks; a day to a
# year; one last bucket beyond. Boundaries fall on whole hours up to 2 weeks.
SEGMENTS = ((480, 1), (2880, 15), (20160, 120), (525600, 1440))


def _bucket_table() -> tuple[np.ndarray, np.ndarray]:
    lower, width, start = [], [], 0
    for end, w in SEGMENTS:
        n = (end - start) // w
        lower.extend(start + w * np.arange(n))
        width.extend([w] * n)
        start = end
    lower.append(start)
    width.append(0)  # the overflow bucket: its lower bound is the estimate
    return np.array(lower, dtype=float) / 60, np.array(width, dtype=float) / 60


BUCKET_LOWER, BUCKET_WIDTH = _bucket_table()  # hours, indexed by bucket
OVERFLOW = len(BUCKET_LOWER) - 1

# metric → (SQL value in hours over appeals a, the KPI columns it answers and their quantiles)
HIST_METRICS = {
    1: "a.first_response_work_hours",
    2: None,  # first response, calendar hours (dialect-specific, see _metric_values)
    3: None,  # closing, calendar hours
    4: "a.escalation_work_hours",
}
PERCENTILES = {  # KPI column → (metric, quantile, divisor)
    "first_response_median": (1, 0.5, 1.0),
    "first_response_p90": (1, 0.9, 1.0),
    "first_response_median_calendar": (2, 0.5, 1.0),
    "close_time_median": (3, 0.5, 24.0),
    "time_before_escalation": (4, 0.5, 1.0),
}


def bucket_of(hours: np.ndarray | float) -> np.ndarray:
    """The bucket of a value in hours (the same arithmetic as bucket_sql)."""
    minutes = np.asarray(hours, dtype=float) * 60
    out = np.full(minutes.shape, OVERFLOW)
    base, start = 0, 0
    for end, w in SEGMENTS:
        inside = (minutes >= start) & (minutes < end)
        out = np.where(inside, base + np.floor((minutes - start) / w), out)
        base += (end - start) // w
        start = end
    return out.astype(int)


def bucket_width(hours: float) -> float:
    """How far a percentile from the histograms may be from the exact one, at this value."""
    return float(BUCKET_WIDTH[int(bucket_of(hours))])


def bucket_sql(d: Dialect, v: str) -> str:
    """SQL: the bucket of a non-negative value `v` in hours."""
    parts, base, start = [], 0, 0
    for end, w in SEGMENTS:
        parts.append(f"when {v} * 60 < {end} then {base} + {d.floor(f'({v} * 60 - {start}) / {w}.0')}")
        base += (end - start) // w
        start = end
    return f"(case {' '.join(parts)} else {base} end)"


# ---------------------------------------------------------------------------------------------- periods

def _month_end(day: dt.date) -> dt.date:
    return dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1) - dt.timedelta(days=1)


@dataclass(frozen=True)
class Pieces:
    """A period cut into whole years, whole months and runs of days (inclusive)."""
    years: tuple[dt.date, ...]
    months: tuple[dt.date, ...]
    days: tuple[tuple[dt.date, dt.date], ...]


def pieces(date_from: dt.date, date_to: dt.date, *, use_years: bool = True) -> Pieces:
    years, months, days = [], [], []
    cur = date_from
    while cur <= date_to:
        if use_years and cur.month == 1 and cur.day == 1 and dt.date(cur.year, 12, 31) <= date_to:
            years.append(cur)
            cur = dt.date(cur.year + 1, 1, 1)
        elif cur.day == 1 and _month_end(cur) <= date_to:
            months.append(cur)
            cur = _month_end(cur) + dt.timedelta(days=1)
        else:
            end = min(date_to, _month_end(cur))
            if days and days[-1][1] == cur - dt.timedelta(days=1):
                days[-1] = (days[-1][0], end)
            else:
                days.append((cur, end))
            cur = end + dt.timedelta(days=1)
    return Pieces(tuple(years), tuple(months), tuple(days))


def _date(d: Dialect, day: dt.date):
    return day if d.pg else day.isoformat()


def period_sql(d: Dialect, p: Pieces, params: dict, alias: str = "c") -> str:
    conds = []
    if p.years:
        params["p_years"] = [_date(d, x) for x in p.years]
        conds.append(f"({alias}.grain = 'y' and {alias}.period in :p_years)")
    if p.months:
        params["p_months"] = [_date(d, x) for x in p.months]
        conds.append(f"({alias}.grain = 'm' and {alias}.period in :p_months)")
    for i, (a, b) in enumerate(p.days):
        params[f"p_d{i}a"], params[f"p_d{i}b"] = _date(d, a), _date(d, b)
        conds.append(f"({alias}.grain = 'd' and {alias}.period between :p_d{i}a and :p_d{i}b)")
    return "(" + (" or ".join(conds) or "1=0") + ")"


# ---------------------------------------------------------------------------------------------- state

STATE_KEY = "summaries"


def is_ready(conn: Connection) -> bool:
    try:
        row = conn.execute(text("select value from dataset_info where key = :k"), {"k": STATE_KEY}).first()
    except Exception:  # noqa: BLE001 - a database without the table has no summaries
        return False
    return bool(row) and row[0] == "ready"


def usable(conn: Connection, viewer: Viewer) -> bool:
    """The summaries answer for this viewer: they are built, and the viewer's scope is a dimension.

    An executor sees appeals assigned *or escalated* to it; escalation is not a summary dimension,
    so an executor's figures are read from the appeals (they are few).
    """
    return viewer.role != "executor" and is_ready(conn)


def _set_state(conn: Connection, value: str) -> None:
    conn.execute(text("delete from dataset_info where key = :k"), {"k": STATE_KEY})
    conn.execute(text("insert into dataset_info (key, value) values (:k, :v)"), {"k": STATE_KEY, "v": value})


# ---------------------------------------------------------------------------------------------- building

def _trunc(d: Dialect, col: str, grain: str) -> str:
    if grain == "m":
        return f"date_trunc('month', {col}::timestamp)::date" if d.pg else f"strftime('%Y-%m-01', {col})"
    return f"date_trunc('year', {col}::timestamp)::date" if d.pg else f"strftime('%Y-01-01', {col})"


def _dim_select(node: int, alias: str) -> str:
    return ", ".join(f"{alias}.{c}" if node & bit else EMPTY[c] for c, bit in DIMS.items())


def _dim_group(node: int, alias: str) -> str:
    return "".join(f", {alias}.{c}" for c, bit in DIMS.items() if node & bit)


KEY_COLUMNS = "grain, period, municipality_id, topic_id, source, organization_id"


def _days_cond(d: Dialect, col: str, days: list[dt.date] | None, params: dict) -> str:
    """Rows of `col`'s local day in `days` (all rows when None), using the column's index range."""
    if days is None:
        return f"{col} is not null"
    lo = dt.datetime.combine(min(days), dt.time(), dt.timezone.utc) - dt.timedelta(hours=7)
    hi = dt.datetime.combine(max(days) + dt.timedelta(days=1), dt.time(), dt.timezone.utc) - dt.timedelta(hours=7)
    params.update(r_lo=d.ts_param(lo), r_hi=d.ts_param(hi), r_days=[_date(d, x) for x in days])
    return f"{col} >= :r_lo and {col} < :r_hi and {d.local_date(col)} in :r_days"


def _periods_cond(grain: str, periods: list[dt.date] | None, d: Dialect, params: dict, alias: str = "") -> str:
    if periods is None:
        return "1=1"
    name = f"r_{grain}"
    params[name] = [_date(d, x) for x in periods]
    return f"{alias}period in :{name}"


def _run(conn: Connection, statement: str, params: dict) -> None:
    from queries.filters import sql
    conn.execute(sql(statement, params), params)


def _fill_counts(conn: Connection, d: Dialect, scope: dict) -> None:
    """agg_counts and agg_closed for the finest node from appeals, then every coarser cell."""
    params: dict = {}
    cond = _days_cond(d, "a.received_at", scope["d"], params)
    counts = ", ".join(f"{expr}" for expr in FIXED_COUNTS.values())
    day = d.local_date("a.received_at")
    _run(conn, f"""
insert into agg_counts (dims, {KEY_COLUMNS}, {', '.join(COUNT_NAMES)})
select {FULL}, 'd', {day}, a.municipality_id, a.topic_id, a.source, a.organization_id, {counts},
  sum(case when a.first_response_at is null then 1 else 0 end),
  sum(case when a.first_response_at is null and a.status in {OPEN} then 1 else 0 end)
from appeals a where {cond}
group by {day}, a.municipality_id, a.topic_id, a.source, a.organization_id""", params)
    params = {}
    cond = _days_cond(d, "a.closed_at", scope["d"], params)
    day = d.local_date("a.closed_at")
    _run(conn, f"""
insert into agg_closed (dims, {KEY_COLUMNS}, closed)
select {FULL}, 'd', {day}, a.municipality_id, a.topic_id, a.source, a.organization_id, count(*)
from appeals a where {cond}
group by {day}, a.municipality_id, a.topic_id, a.source, a.organization_id""", params)
    for table, measures in (("agg_counts", COUNT_NAMES), ("agg_closed", ("closed",))):
        sums = ", ".join(f"sum({m})" for m in measures)
        _rollup(conn, d, table, measures, sums, scope, NODES, FULL)


def _rollup(conn, d, table, measures, sums, scope, nodes, finest):
    """Coarser grains of the finest node, then every other node from its parent, grain by grain."""
    cols = ", ".join(measures)
    for grain, finer in (("m", "d"), ("y", "m")):
        params: dict = {}
        cond = _periods_cond(finer, scope[finer], d, params)
        _run(conn, f"""
insert into {table} (dims, {KEY_COLUMNS}, {cols})
select dims, '{grain}', {_trunc(d, 'period', grain)}, municipality_id, topic_id, source, organization_id, {sums}
from {table} where dims = {finest} and grain = '{finer}' and {cond}
group by dims, {_trunc(d, 'period', grain)}, municipality_id, topic_id, source, organization_id""", params)
    for node in nodes:
        if node == finest:
            continue
        parent = node | min(b for b in DIMS.values() if not node & b and (finest & b))
        for grain in GRAINS:
            params = {}
            cond = _periods_cond(grain, scope[grain], d, params)
            _run(conn, f"""
insert into {table} (dims, {KEY_COLUMNS}, {cols})
select {node}, grain, period, {_dim_select(node, 'p')}, {sums}
from {table} p where dims = {parent} and grain = '{grain}' and {cond}
group by grain, period{_dim_group(node, 'p')}""", params)


def _metric_values(d: Dialect) -> str:
    fr = d.hours_between("a.received_at", "a.first_response_at")
    close = d.hours_between("a.received_at", "a.closed_at")
    return (f"case mt.metric when 1 then a.first_response_work_hours when 2 then {fr}"
            f" when 3 then (case when a.status in {CLOSED} then {close} end)"
            f" when 4 then a.escalation_work_hours end")


def _fill_hist(conn: Connection, d: Dialect, scope: dict) -> None:
    """Histograms of each one-dimension node by day from appeals; the empty node and coarser grains by rollup."""
    metrics = " union all ".join(f"select {m} as metric" for m in HIST_METRICS)
    for node in (1, 2, 4, 8):
        params: dict = {}
        cond = _days_cond(d, "a.received_at", scope["d"], params)
        dim = next(c for c, b in DIMS.items() if b == node)
        _run(conn, f"""
insert into agg_hist (dims, metric, {KEY_COLUMNS}, urgent, bucket, n)
select {node}, metric, 'd', day, {_dim_select(node, 'x')}, urgent, {bucket_sql(d, 'v')}, count(*)
from (select {d.local_date('a.received_at')} as day, a.{dim}, mt.metric,
             case when t.is_urgent then 1 else 0 end as urgent, {_metric_values(d)} as v
      from appeals a join topics t on t.id = a.topic_id cross join ({metrics}) mt
      where {cond}) x
where v is not null
group by metric, day, x.{dim}, urgent, {bucket_sql(d, 'v')}""", params)
    _rollup_hist(conn, d, scope)


def _rollup_hist(conn: Connection, d: Dialect, scope: dict) -> None:
    cols = "urgent, bucket, n"
    for node in (1, 2, 4, 8):
        for grain, finer in (("m", "d"), ("y", "m")):
            params: dict = {}
            cond = _periods_cond(finer, scope[finer], d, params)
            _run(conn, f"""
insert into agg_hist (dims, metric, {KEY_COLUMNS}, {cols})
select dims, metric, '{grain}', {_trunc(d, 'period', grain)}, municipality_id, topic_id, source, organization_id,
       urgent, bucket, sum(n)
from agg_hist where dims = {node} and grain = '{finer}' and {cond}
group by dims, metric, {_trunc(d, 'period', grain)}, municipality_id, topic_id, source, organization_id,
         urgent, bucket""", params)
    for grain in GRAINS:  # the empty node from the municipality node
        params = {}
        cond = _periods_cond(grain, scope[grain], d, params)
        _run(conn, f"""
insert into agg_hist (dims, metric, {KEY_COLUMNS}, {cols})
select 0, metric, grain, period, 0, 0, '', 0, urgent, bucket, sum(n)
from agg_hist where dims = 1 and grain = '{grain}' and {cond}
group by metric, grain, period, urgent, bucket""", params)


def _delete(conn: Connection, d: Dialect, scope: dict) -> None:
    for table in ("agg_counts", "agg_closed", "agg_hist"):
        if scope["d"] is None:
            conn.execute(text(f"delete from {table}"))
            continue
        for grain in GRAINS:
            params: dict = {}
            _run(conn, f"delete from {table} where grain = '{grain}' and {_periods_cond(grain, scope[grain], d, params)}",
                 params)


def _scope(days: Iterable[dt.date] | None) -> dict:
    if days is None:
        return {"d": None, "m": None, "y": None}
    days = sorted(set(days))
    return {"d": days, "m": sorted({x.replace(day=1) for x in days}), "y": sorted({dt.date(x.year, 1, 1) for x in days})}


def build(conn: Connection) -> float:
    """Rebuild every summary from the appeals, in the caller's transaction. Returns seconds."""
    return refresh(conn, None)


def refresh(conn: Connection, days: Iterable[dt.date] | None) -> float:
    """Recompute the cells of these local days, and of their months and years (None: everything).

    `days` must hold the local days of received_at and of closed_at, before and after the
    change, of every appeal that changed. Runs in the caller's transaction.
    """
    started = time.perf_counter()
    d = dialect_of(conn)
    scope = _scope(days)
    if scope["d"] is not None and not scope["d"]:
        return 0.0
    _delete(conn, d, scope)
    _fill_counts(conn, d, scope)
    _fill_hist(conn, d, scope)
    _set_state(conn, "ready")
    return time.perf_counter() - started


def analyze(engine) -> None:
    """Fresh planner statistics after a large change (outside any transaction on PostgreSQL)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("analyze agg_counts; analyze agg_closed; analyze agg_hist"))
    else:
        with engine.begin() as c:
            c.execute(text("analyze"))


# ---------------------------------------------------------------------------------------------- queries

def node_for(filters: Filters, group: str | None = None) -> int:
    node = GROUP_DIM[group] if group else 0
    for name, bit in (("territories", 1), ("topics", 2), ("sources", 4), ("executors", 8)):
        if getattr(filters, name):
            node |= bit
    return node


def _cell_filter(filters: Filters, d: Dialect, viewer: Viewer, alias: str = "c") -> tuple[str, dict]:
    return where(filters, d, viewer, alias=alias, with_dates=False)


def counts(conn: Connection, filters: Filters, viewer: Viewer, group: str | None) -> pd.DataFrame:
    """The stored counts of the cohort, overall or per group (key)."""
    d = dialect_of(conn)
    cond, params = _cell_filter(filters, d, viewer)
    params["dims"] = node_for(filters, group)
    period = period_sql(d, pieces(filters.date_from, filters.date_to), params)
    key_sql, join = GROUP_KEY[group] if group else ("", "")
    sums = ", ".join(f"sum(c.{n}) as {n}" for n in COUNT_NAMES)
    return run(conn, f"""
select {key_sql + ' as key, ' if group else ''}{sums}
from agg_counts c {join}
where c.dims = :dims and {period} and {cond}{' group by ' + key_sql if group else ''}""", params)


def pending(conn: Connection, filters: Filters, viewer: Viewer, now: dt.datetime, group: str | None,
            bucket: str | None = None) -> pd.DataFrame:
    """Unanswered appeals of the cohort whose deadline is at or after `now`: pending, pending_open."""
    from queries.kpis import GROUPS
    d = dialect_of(conn)
    cond, params = where(filters, d, viewer)
    params["now"] = d.ts_param(now)
    keys = ([f"{GROUPS[group]} as key"] if group else []) + ([f"{d.bucket('a.received_at', bucket)} as bucket"] if bucket else [])
    joins = ""
    if group in ("territory",):
        joins += " join municipalities m on m.id = a.municipality_id"
    if group in ("category",):
        joins += " join topics t on t.id = a.topic_id"
    n_keys = len(keys)
    return run(conn, f"""
select {', '.join(keys) + ', ' if keys else ''}count(*) as pending,
       sum(case when a.status in {OPEN} then 1 else 0 end) as pending_open
from appeals a{joins}
where a.first_response_at is null and a.response_due_at >= :now and {cond}
{'group by ' + ', '.join(str(i + 1) for i in range(n_keys)) if n_keys else ''}""", params)


def histogram(conn: Connection, filters: Filters, viewer: Viewer, group: str | None, metrics: Iterable[int],
              by_urgency: bool = False) -> pd.DataFrame:
    """Stored histogram rows of the cohort: [key,] metric, [urgent,] bucket, n."""
    d = dialect_of(conn)
    cond, params = _cell_filter(filters, d, viewer, "c")
    params["dims"] = node_for(filters, group)
    params["p_metrics"] = [int(m) for m in metrics]
    period = period_sql(d, pieces(filters.date_from, filters.date_to), params)
    key_sql, join = GROUP_KEY[group] if group else ("", "")
    keys = ([f"{key_sql}"] if group else []) + ["c.metric"] + (["c.urgent"] if by_urgency else []) + ["c.bucket"]
    names = (["key"] if group else []) + ["metric"] + (["urgent"] if by_urgency else []) + ["bucket"]
    select = ", ".join(f"{k} as {n}" for k, n in zip(keys, names))
    return run(conn, f"""
select {select}, sum(c.n) as n
from agg_hist c {join}
where c.dims = :dims and c.metric in :p_metrics and {period} and {cond}
group by {', '.join(keys)}""", params)


def has_histogram(filters: Filters, group: str | None) -> bool:
    return node_for(filters, group) in HIST_NODES


def hist_percentiles(hist: pd.DataFrame, columns: Iterable[str], grouped: bool) -> pd.DataFrame:
    """Percentile columns from histogram rows, per key (or one row): linear within a bucket.

    Matches percentile_cont: the value at position q·(n−1) of the sorted values, interpolated
    between its two neighbours; each neighbour is placed evenly within its bucket.
    """
    columns = list(columns)
    out_index = pd.Index(hist["key"].unique() if grouped and len(hist) else [], name="key") if grouped else pd.Index([0])
    out = pd.DataFrame(index=out_index)
    for col in columns:
        out[col] = np.nan
    if hist.empty:
        return out.reset_index() if grouped else out.reset_index(drop=True)
    h = hist.copy()
    if not grouped:
        h["key"] = 0
    h["n"] = pd.to_numeric(h["n"]).astype("int64")
    h["bucket"] = pd.to_numeric(h["bucket"]).astype(int)
    h["metric"] = pd.to_numeric(h["metric"]).astype(int)
    h = h.groupby(["key", "metric", "bucket"], as_index=False)["n"].sum().sort_values(["key", "metric", "bucket"])
    g = h.groupby(["key", "metric"], sort=False)["n"]
    h["cum"] = g.cumsum()
    h["before"] = h["cum"] - h["n"]
    h["total"] = g.transform("sum")
    lower = BUCKET_LOWER[h["bucket"].to_numpy()]
    width = BUCKET_WIDTH[h["bucket"].to_numpy()]
    for col in columns:
        metric, q, divisor = PERCENTILES[col]
        mask = (h["metric"] == metric).to_numpy()
        sel = h[mask]
        if sel.empty:
            continue
        lo_w, w = lower[mask], width[mask]
        pos = q * (sel["total"].to_numpy() - 1)
        values = []
        for rank in (np.floor(pos), np.ceil(pos)):
            inside = (sel["before"].to_numpy() <= rank) & (rank < sel["cum"].to_numpy())
            v = lo_w + w * (rank - sel["before"].to_numpy() + 0.5) / sel["n"].to_numpy()
            values.append(pd.Series(v[inside], index=sel["key"].to_numpy()[inside]))
        frac = pd.Series(pos - np.floor(pos), index=sel["key"].to_numpy())
        frac = frac[~frac.index.duplicated()]
        v0, v1 = values
        est = (v0 + (v1 - v0) * frac.reindex(v0.index)) / divisor
        out.loc[est.index, col] = est.to_numpy()
    return out.reset_index() if grouped else out.reset_index(drop=True)


# ---------------------------------------------------------------------------------------------- CLI

def main(argv=None) -> int:
    from queries.config import ConfigError, mask_url, resolve_admin_database
    from queries.db import check_connection

    p = argparse.ArgumentParser(prog="python -m queries.summary",
                                description="Build or refresh the summary tables the dashboard reads.")
    p.add_argument("action", choices=("build", "refresh", "status"),
                   help="build: everything from the appeals; refresh: the given days; status: ready or not")
    p.add_argument("--db", help="database URL (default: DATABASE_URL, secrets, or the embedded SQLite file)")
    p.add_argument("--days", help="refresh: local days, YYYY-MM-DD[,YYYY-MM-DD…] or FROM..TO")
    args = p.parse_args(argv)
    try:
        url = args.db or resolve_admin_database().url
        engine = check_connection(url)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with engine.connect() as conn:
        if args.action == "status":
            print("ready" if is_ready(conn) else "not built")
            return 0
    days = None
    if args.action == "refresh":
        if not args.days:
            print("error: refresh needs --days", file=sys.stderr)
            return 2
        try:
            days = parse_days(args.days)
        except ValueError as exc:
            print(f"error: --days: {exc}", file=sys.stderr)
            return 2
    with engine.begin() as conn:
        seconds = refresh(conn, days)
    analyze(engine)
    print(f"{mask_url(url)}: summaries {'built' if days is None else f'refreshed for {len(days)} days'}"
          f" in {seconds:.1f} s", file=sys.stderr)
    return 0


def parse_days(spec: str) -> list[dt.date]:
    out: list[dt.date] = []
    for part in spec.split(","):
        part = part.strip()
        if ".." in part:
            a, b = (dt.date.fromisoformat(x) for x in part.split(".."))
            if b < a:
                raise ValueError(f"{part}: the end is before the start")
            out.extend(a + dt.timedelta(days=i) for i in range((b - a).days + 1))
        elif part:
            out.append(dt.date.fromisoformat(part))
    if not out:
        raise ValueError("no days given")
    return out


if __name__ == "__main__":
    sys.exit(main())
