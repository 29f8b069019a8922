"""Reading figures from the cells: counts, pending appeals, histograms and series of a cohort.

Counts are exact. The two counts that depend on `now` (unanswered past the deadline) are the
stored unanswered counts minus the unanswered appeals whose deadline is still ahead: few, read
through the partial index ix_appeals_unanswered_due. Percentiles come from the histograms, exact to
within one bucket. A node without day cells reads the days at the edges of its period from the
appeals, which its filters then narrow.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Iterable

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from queries.dialect import Dialect, dialect_of
from queries.filters import Filters, where
from queries.measures import (COUNT_NAMES, GROUPS, OPEN, STORED_CONDITIONS, UNANSWERED, bucket_of, few_rows,
                              timed_values)
from queries.run import fetch, rows_column, run
from queries.summaries.codec import DIM_COLUMNS, HIST_RECORD
from queries.summaries.lattice import (DAY_NODES, YEAR_HIST_NODES, Pieces, day_hist_metrics, edge_plan, node_for,
                                       pieces, stored_node)
from queries.summaries.state import READY_COLUMN, is_ready
from queries.summaries.store import period_value
from queries.viewer import Viewer


def cells_sql(d: Dialect, table: str, p: Pieces, params: dict, cond: str,
              minus: Iterable[tuple[dt.date, dt.date]] = (), columns: Iterable[str] = ()) -> str:
    """A FROM source: the cells of `table` in the pieces' periods that meet `cond` (alias c).

    One UNION ALL arm per grain and day run, each an equality-and-range seek on the primary
    key (an OR of the three would make SQLite scan the node). `minus`: runs of day cells to
    subtract (a month's cell less the days outside the period); the source then carries a
    column `sgn`, 1 or -1, by which the caller weighs what it sums. `columns`: the cells' columns
    the caller reads besides their keys (all when none are named): each arm copies what it selects.
    """
    arms = []
    if p.years:
        params["p_years"] = [period_value(d, x) for x in p.years]
        arms.append("c.grain = 'y' and c.period in :p_years")
    if p.months:
        params["p_months"] = [period_value(d, x) for x in p.months]
        arms.append("c.grain = 'm' and c.period in :p_months")
    for i, (a, b) in enumerate(p.days):
        params[f"p_d{i}a"], params[f"p_d{i}b"] = period_value(d, a), period_value(d, b)
        arms.append(f"c.grain = 'd' and c.period between :p_d{i}a and :p_d{i}b")
    if not arms:
        arms = ["1=0"]
    minus = list(minus)
    sign = ", 1 as sgn" if minus else ""
    read = ", ".join(["c.dims", *(f"c.{k}" for k in DIM_COLUMNS), *(f"c.{x}" for x in columns)]) if columns else "c.*"
    selects = [f"select {read}{sign} from {table} c where {cond} and {arm}" for arm in arms]
    for i, (a, b) in enumerate(minus):
        params[f"p_m{i}a"], params[f"p_m{i}b"] = period_value(d, a), period_value(d, b)
        selects.append(f"select {read}, -1 as sgn from {table} c where {cond} "
                       f"and c.grain = 'd' and c.period between :p_m{i}a and :p_m{i}b")
    return "(" + " union all ".join(selects) + ")"


def day_cells_plan(p: Pieces) -> tuple[Pieces, list[tuple[dt.date, dt.date]]]:
    """How a node with day cells reads its period's days: a run covering most of its month as the
    month's cell less the month's other days (edge_plan's rule), fewer cells than the run's own
    days (a month holds a key's cell once, a day as often as the key has days). Returns the
    pieces to add and the day runs to subtract."""
    if not p.days:
        return p, []
    months, add, subtract = edge_plan(p)
    return replace(months, days=tuple(add)), subtract


def _cell_filter(filters: Filters, d: Dialect, viewer: Viewer, alias: str = "c",
                 purpose: str = "aggregate") -> tuple[str, dict]:
    return where(filters, d, viewer, purpose, alias=alias, with_dates=False)


def _raw_keys(group: str | None) -> tuple[str, str]:
    """Group key SQL over appeals `a` and the joins it needs."""
    return (GROUPS[group].raw_key, GROUPS[group].raw_join) if group else ("", "")


def _cell_keys(group: str | None) -> tuple[str, str]:
    """Group key SQL over cells `c` and the join it needs."""
    return (GROUPS[group].cell_key, GROUPS[group].cell_join) if group else ("", "")


def _combine(parts: list[tuple[np.ndarray | None, np.ndarray]], group: str | None, width: int
             ) -> tuple[np.ndarray | None, np.ndarray]:
    """Parts of counts ([keys,] a row per key of `width` counts) summed per key (or in all): the keys
    (None ungrouped) and an int64 matrix, in numpy over whole blocks, so that the few rows of a
    figure cost microseconds rather than a pandas operation per column."""
    parts = [p for p in parts if len(p[1])]
    if not parts:
        return (np.zeros(0, dtype=object) if group else None), np.zeros((0, width), dtype=np.int64)
    values = np.concatenate([v for _, v in parts]) if len(parts) > 1 else parts[0][1]
    if not group:
        return None, values.sum(axis=0, keepdims=True)
    keys = np.concatenate([k for k, _ in parts]) if len(parts) > 1 else parts[0][0]
    if len(parts) > 1:
        codes, uniques = pd.factorize(keys, sort=True)
        summed = np.zeros((len(uniques), values.shape[1]), dtype=np.int64)
        np.add.at(summed, codes, values)
        keys, values = np.asarray(uniques, dtype=keys.dtype), summed
    return keys, values


def _parts(columns: list[str], rows: list[tuple], group: str | None, names: tuple[str, ...], sign: int = 1
           ) -> tuple[np.ndarray | None, np.ndarray]:
    """Rows of [key,] `names` (sums over no rows are NULL: 0) as (keys, int64 matrix)."""
    if not rows:
        return None, np.zeros((0, len(names)), dtype=np.int64)
    at = [columns.index(n) for n in names]
    table = np.array(rows, dtype=object)
    values = np.nan_to_num(table[:, at].astype(float)).astype(np.int64) * sign
    return (_keys(table[:, columns.index("key")]) if group else None), values


def _keys(keys: np.ndarray) -> np.ndarray:
    """Group keys as read (an object array): int64 where they are all integers (territories,
    executors), as they are otherwise (codes)."""
    return keys.astype(np.int64) if all(isinstance(k, (int, np.integer)) for k in keys) else keys


def counts(conn: Connection, filters: Filters, viewer: Viewer, group: str | None,
           purpose: str = "aggregate") -> pd.DataFrame:
    """The counts of COUNT_NAMES for the cohort, overall (one row, or none when nothing was read)
    or per group (key): count_arrays as a frame."""
    keys, values = count_arrays(conn, filters, viewer, group, purpose)
    if group is None and not len(values):
        return pd.DataFrame(columns=list(COUNT_NAMES))
    out = pd.DataFrame(values, columns=list(COUNT_NAMES))
    if group:
        out.insert(0, "key", keys)
    return out


def count_arrays(conn: Connection, filters: Filters, viewer: Viewer, group: str | None,
                 purpose: str = "aggregate", if_ready: bool = False, names: tuple[str, ...] = COUNT_NAMES
                 ) -> tuple[np.ndarray | None, np.ndarray] | None:
    """The counts `names` (of COUNT_NAMES, received among them) for the cohort: the group keys
    (None ungrouped) and an int64 matrix, a row per key (ungrouped: one row, none when nothing
    was read), a column per name: a figure sums only the counts it shows.
    `if_ready`: None when the summaries are not built (state.is_ready), read with the cells.

    Whole months from the summary cells; the edge days from day cells when the node
    keeps them, else from the appeals (then the filters narrow what is read).
    purpose "cases": within the viewer's case scope (a head's territory, a municipality condition).
    """
    d = dialect_of(conn)
    territorial = purpose == "cases" and viewer.role == "head"
    node = stored_node(node_for(filters, group) | (GROUPS["municipality"].dim if territorial else 0))
    p = pieces(filters.date_from, filters.date_to, years=True)
    parts, subtracted = [], False
    if node not in DAY_NODES and p.days:
        p, add, subtract = edge_plan(p)
        for sign, runs in ((1, add), (-1, subtract)):
            for a, b in runs:
                part = _parts(*_raw_counts(conn, filters.narrowed(date_from=a, date_to=b), viewer, group, names,
                                           purpose), group, names, sign)
                subtracted |= sign < 0 and len(part[1]) > 0
                parts.append(part)
    minus: list = []
    if node in DAY_NODES:
        p, minus = day_cells_plan(p)
        subtracted = bool(minus)
    checked = not if_ready
    if p.years or p.months or p.days:
        cond, params = _cell_filter(filters, d, viewer, purpose=purpose)
        params["dims"] = node
        source = cells_sql(d, "agg_counts", p, params, f"c.dims = :dims and {cond}", minus, names)
        key_sql, join = _cell_keys(group)
        weight = " * c.sgn" if minus else ""
        sums = ", ".join(f"sum(c.{n}{weight}) as {n}" for n in names)
        columns, rows = fetch(conn, f"""
select {key_sql + ' as key, ' if group else ''}{sums}{', ' + READY_COLUMN if if_ready else ''}
from {source} c {join}{' group by ' + key_sql if group else ''}""", params)
        if if_ready and rows:  # no rows (no group): not known, asked below
            if rows[0][-1] != "ready":
                return None
            checked = True
        parts.append(_parts(columns, rows, group, names))
    if not checked and not is_ready(conn):
        return None
    keys, values = _combine(parts, group, len(names))
    if subtracted and group:  # a group whose appeals all fell on the subtracted days has none
        keep = values[:, names.index("received")] != 0
        keys, values = keys[keep], values[keep]
    return keys, values


def _raw_counts(conn: Connection, filters: Filters, viewer: Viewer, group: str | None, names: tuple[str, ...],
                purpose: str = "aggregate") -> tuple[list[str], list[tuple]]:
    d = dialect_of(conn)
    cond, params = where(filters, d, viewer, purpose)
    key, joins = _raw_keys(group)
    exprs = ", ".join(f"{e} as {n}" for n, e in few_rows(STORED_CONDITIONS).items() if n in names)
    return fetch(conn, f"""
select {key + ' as key, ' if group else ''}{exprs}
from appeals a{joins} where {cond}{' group by ' + key if group else ''}""", params)


def pending(conn: Connection, filters: Filters, viewer: Viewer, now: dt.datetime, group: str | None,
            bucket: str | None = None) -> pd.DataFrame:
    """Unanswered appeals of the cohort whose deadline is at or after `now`: pending, pending_open."""
    return run(conn, *_pending_sql(conn, filters, viewer, now, group, bucket))


def pending_arrays(conn: Connection, filters: Filters, viewer: Viewer, now: dt.datetime, group: str | None
                   ) -> dict[str, np.ndarray]:
    """pending() as arrays ([key,] pending, pending_open), for a figure of a few keys."""
    columns, rows = fetch(conn, *_pending_sql(conn, filters, viewer, now, group, None))
    out = {c: rows_column(rows, i, object if c == "key" else np.int64)
           for i, c in enumerate(columns)}
    if group:
        out["key"] = _keys(out["key"])
    return out


def _pending_sql(conn: Connection, filters: Filters, viewer: Viewer, now: dt.datetime, group: str | None,
                 bucket: str | None) -> tuple[str, dict]:
    d = dialect_of(conn)
    cond, params = where(filters, d, viewer)
    params["now"] = d.ts_param(now)
    key, joins = _raw_keys(group)
    keys = ([f"{key} as key"] if group else []) + ([f"{d.bucket('a.received_at', bucket)} as bucket"] if bucket else [])
    n_keys = len(keys)
    return f"""
select {', '.join(keys) + ', ' if keys else ''}count(*) as pending,
       count(case when a.status in {OPEN} then 1 end) as pending_open
from appeals a{d.indexed_by('ix_appeals_unanswered_due')}{joins}
where {UNANSWERED} and a.response_due_at >= :now and {cond}
{'group by ' + ', '.join(str(i + 1) for i in range(n_keys)) if n_keys else ''}""", params


def histogram(conn: Connection, filters: Filters, viewer: Viewer, group: str | None, metrics: Iterable[int],
              by_urgency: bool = False) -> pd.DataFrame:
    """Histogram rows of the cohort: [key,] metric, [urgent,] bucket, n, one row per key and
    bucket (hist_arrays' rows summed; a bucket emptied by a subtraction is gone)."""
    names = _hist_names(group, by_urgency)
    a = hist_arrays(conn, filters, viewer, group, metrics, by_urgency)
    if not len(a["n"]):
        return pd.DataFrame(columns=names + ["n"])
    out = pd.DataFrame(a).groupby(names, as_index=False, sort=False)["n"].sum()
    return out[out["n"] != 0].reset_index(drop=True)


def hist_arrays(conn: Connection, filters: Filters, viewer: Viewer, group: str | None, metrics: Iterable[int],
                by_urgency: bool = False) -> dict[str, np.ndarray]:
    """The cohort's histogram as arrays [key,] metric, [urgent,] bucket, n: a key and bucket may
    repeat, and a subtracted run's n is negative; their sums are the histogram.

    For a node in HIST_NODES: whole months from stored cells; edge days from day
    cells where kept (every metric for the empty and one-dimension nodes, first response for
    two), else bucketed from the appeals of those days (then the filters narrow them). Arrays,
    not frames: a figure's histogram is a few hundred buckets, and each frame operation cost more.
    """
    d = dialect_of(conn)
    node = stored_node(node_for(filters, group))
    metrics = sorted({int(m) for m in metrics})
    names = _hist_names(group, by_urgency)
    p = pieces(filters.date_from, filters.date_to, years=node in YEAR_HIST_NODES)
    parts: list[dict[str, np.ndarray]] = []
    if p.days and not set(metrics) <= set(day_hist_metrics(node)):  # no day cells for these metrics
        p, add, subtract = edge_plan(p)
        for sign, runs in ((1, add), (-1, subtract)):
            for a, b in runs:
                parts.append(_raw_hist_arrays(conn, filters.narrowed(date_from=a, date_to=b), viewer, group, metrics,
                                              by_urgency, sign))
    if p.years or p.months or p.days:
        cond, params = _cell_filter(filters, d, viewer, "c")
        params["dims"] = node
        params["p_metrics"] = metrics
        source = cells_sql(d, "agg_hist", p, params, f"c.dims = :dims and c.metric in :p_metrics and {cond}",
                           columns=("metric", "urgent", "hist"))
        key_sql, join = _cell_keys(group)
        keys = [n for n in names if n != "bucket"]
        columns = ", ".join(f"{key_sql} as key" if n == "key" else f"c.{n}" for n in keys)
        if d.pg:  # one row per key: the cells' packed records end to end
            _, rows = fetch(conn, f"""
select {columns}, string_agg(c.hist, ''::bytea) as hist
from {source} c {join} group by {', '.join(str(i + 1) for i in range(len(keys)))}""", params)
        else:
            _, rows = fetch(conn, f"select {columns}, c.hist from {source} c {join}", params)
        parts.append(_decoded(rows, keys))
    parts = [x for x in parts if len(x["n"])]
    if not parts:
        return {n: np.zeros(0, dtype=object if n == "key" else np.int64) for n in [*names, "n"]}
    if len(parts) == 1:  # most reads: concatenating a long key column of objects copies it for nothing
        return {n: parts[0][n] for n in [*names, "n"]}
    return {n: np.concatenate([x[n] for x in parts]) for n in [*names, "n"]}


def _decoded(rows: list[tuple], keys: list[str]) -> dict[str, np.ndarray]:
    """Rows of `keys` and a packed histogram (codec.encode_hist) as arrays: keys, bucket, n, a row
    per stored bucket."""
    blobs = [bytes(r[-1]) for r in rows]
    sizes = np.fromiter((len(b) for b in blobs), dtype=np.int64, count=len(blobs)) // HIST_RECORD.itemsize
    records = np.frombuffer(b"".join(blobs), dtype=HIST_RECORD)
    out = {}
    for i, k in enumerate(keys):
        column = rows_column(rows, i, object if k == "key" else np.int64)
        out[k] = np.repeat(_keys(column) if k == "key" else column, sizes)
    out["bucket"] = records["bucket"].astype(np.int64)
    out["n"] = records["n"].astype(np.int64)
    return out


def _hist_names(group: str | None, by_urgency: bool) -> list[str]:
    return (["key"] if group else []) + ["metric"] + (["urgent"] if by_urgency else []) + ["bucket"]


def _raw_hist_arrays(conn: Connection, filters: Filters, viewer: Viewer, group: str | None, metrics: list[int],
                     by_urgency: bool, sign: int = 1) -> dict[str, np.ndarray]:
    """The cohort's appeals bucketed as the stored histograms are (bucket_of), as hist_arrays'
    arrays with n = `sign` per appeal and measured metric."""
    d = dialect_of(conn)
    cond, params = where(filters, d, viewer)
    key, joins = _raw_keys(group)
    if by_urgency and "join topics t" not in joins:
        joins += " join topics t on t.id = a.topic_id"
    values = timed_values(d)
    columns = ([f"{key} as key"] if group else []) + (
        ["case when t.is_urgent then 1 else 0 end as urgent"] if by_urgency else []) + [
        f"{values[m]} as h{m}" for m in metrics]
    _, rows = fetch(conn, f"select {', '.join(columns)} from appeals a{joins} where {cond}", params)
    at = int(bool(group)) + int(by_urgency)
    carried = {}
    if group:
        carried["key"] = _keys(rows_column(rows, 0, object))
    if by_urgency:
        carried["urgent"] = rows_column(rows, at - 1, np.int64)
    out: dict[str, list[np.ndarray]] = {k: [] for k in [*_hist_names(group, by_urgency), "n"]}
    for i, m in enumerate(metrics):
        v = rows_column(rows, at + i, float)
        keep = ~np.isnan(v)
        for k, column in carried.items():
            out[k].append(column[keep])
        out["metric"].append(np.full(int(keep.sum()), m, dtype=np.int64))
        out["bucket"].append(np.asarray(bucket_of(np.maximum(v[keep], 0)), dtype=np.int64))
        out["n"].append(np.full(int(keep.sum()), sign, dtype=np.int64))
    return {k: np.concatenate(v) if v else np.zeros(0, dtype=object if k == "key" else np.int64)
            for k, v in out.items()}


def _series_pieces(filters: Filters, grain: str) -> Pieces:
    if grain == "month":
        return pieces(filters.date_from, filters.date_to)
    return Pieces((), ((filters.date_from, filters.date_to),))  # a month cell cannot be cut into weeks


def series_supported(filters: Filters, by: str | None, grain: str) -> bool:
    """Whether stored cells answer a series: day cells are kept for the small nodes only, so a
    finer node answers by month (its edge days read from the appeals) but not by day or week."""
    return stored_node(node_for(filters, by)) in DAY_NODES or grain == "month"


def series(conn: Connection, filters: Filters, viewer: Viewer, grain: str, measures: Iterable[str],
           table: str = "agg_counts", by: str | None = None) -> pd.DataFrame:
    """Measures per day, ISO week or month bucket (and per group `by`): bucket[, key], measures.

    Only where series_supported(filters, by, grain)."""
    d = dialect_of(conn)
    measures = list(measures)
    node = stored_node(node_for(filters, by))
    p = _series_pieces(filters, grain)
    frames = []
    if node not in DAY_NODES and p.days:
        for a, b in p.days:
            frames.append(_raw_series(conn, filters.narrowed(date_from=a, date_to=b), viewer, grain, measures,
                                      table, by))
        p = Pieces(p.months, ())
    keys = ["bucket"] + (["key"] if by else [])
    if p.months or p.days:
        cond, params = _cell_filter(filters, d, viewer)
        params["dims"] = node
        source = cells_sql(d, table, p, params, f"c.dims = :dims and {cond}")
        bucket = d.date_bucket("c.period", grain)
        key_sql, join = _cell_keys(by)
        sums = ", ".join(f"sum(c.{m}) as {m}" for m in measures)
        frames.append(run(conn, f"""
select {bucket} as bucket{', ' + key_sql + ' as key' if by else ''}, {sums}
from {source} c {join}
group by {', '.join([bucket] + ([key_sql] if by else []))} order by 1""", params))
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=keys + measures)
    if len(frames) == 1:
        return frames[0]
    df = pd.concat(frames, ignore_index=True)
    df["bucket"] = df["bucket"].astype(str).str.slice(0, 10)
    for m in measures:
        df[m] = pd.to_numeric(df[m]).fillna(0)
    return df.groupby(keys, as_index=False)[measures].sum().sort_values(keys).reset_index(drop=True)


def _raw_series(conn: Connection, filters: Filters, viewer: Viewer, grain: str, measures: list[str], table: str,
                by: str | None) -> pd.DataFrame:
    d = dialect_of(conn)
    key, joins = _raw_keys(by)
    if table == "agg_closed":  # closings are dated by closed_at
        cond, params = where(filters, d, viewer, with_dates=False)
        start, end = filters.utc_bounds()
        params.update(c_start=d.ts_param(start), c_end=d.ts_param(end))
        cond += " and a.closed_at >= :c_start and a.closed_at < :c_end"
        col, exprs = "a.closed_at", "count(*) as closed"
    else:
        cond, params = where(filters, d, viewer)
        col, exprs = "a.received_at", ", ".join(f"{few_rows(STORED_CONDITIONS)[m]} as {m}" for m in measures)
    bucket = d.bucket(col, grain)
    return run(conn, f"""
select {bucket} as bucket{', ' + key + ' as key' if by else ''}, {exprs}
from appeals a{joins} where {cond}
group by {bucket}{', ' + key if by else ''}""", params)
