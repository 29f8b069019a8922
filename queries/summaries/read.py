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
from queries.measures import COUNT_NAMES, GROUPS, OPEN, STORED_CONDITIONS, UNANSWERED, few_rows, timed_values
from queries.run import fetch, run
from queries.summaries.cells import bucketed
from queries.summaries.codec import decode_hist
from queries.summaries.lattice import (DAY_NODES, YEAR_HIST_NODES, Pieces, day_hist_metrics, edge_plan, node_for,
                                       pieces, stored_node)
from queries.summaries.store import period_value
from queries.viewer import Viewer


def cells_sql(d: Dialect, table: str, p: Pieces, params: dict, cond: str,
              minus: Iterable[tuple[dt.date, dt.date]] = ()) -> str:
    """A FROM source: the cells of `table` in the pieces' periods that meet `cond` (alias c).

    One UNION ALL arm per grain and day run, each an equality-and-range seek on the primary
    key (an OR of the three would make SQLite scan the node). `minus`: runs of day cells to
    subtract (a month's cell less the days outside the period); the source then carries a
    column `sgn`, 1 or -1, by which the caller weighs what it sums.
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
    selects = [f"select c.*{sign} from {table} c where {cond} and {arm}" for arm in arms]
    for i, (a, b) in enumerate(minus):
        params[f"p_m{i}a"], params[f"p_m{i}b"] = period_value(d, a), period_value(d, b)
        selects.append(f"select c.*, -1 as sgn from {table} c where {cond} "
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


def _combine(parts: list[tuple[np.ndarray | None, np.ndarray]], group: str | None) -> pd.DataFrame:
    """Parts of counts ([keys,] a row per key of COUNT_NAMES) summed per key (or in all) into one
    frame of int64 columns: numpy over whole blocks, so that the few rows of a figure cost
    microseconds rather than a pandas operation per column."""
    parts = [p for p in parts if len(p[1])]
    names = (["key"] if group else []) + list(COUNT_NAMES)
    if not parts:
        return pd.DataFrame(columns=names)
    values = np.concatenate([v for _, v in parts]) if len(parts) > 1 else parts[0][1]
    if not group:
        return pd.DataFrame(values.sum(axis=0, keepdims=True), columns=list(COUNT_NAMES))
    keys = np.concatenate([k for k, _ in parts]) if len(parts) > 1 else parts[0][0]
    if len(parts) > 1:
        codes, uniques = pd.factorize(keys, sort=True)
        summed = np.zeros((len(uniques), values.shape[1]), dtype=np.int64)
        np.add.at(summed, codes, values)
        keys, values = np.asarray(uniques), summed
    out = pd.DataFrame(values, columns=list(COUNT_NAMES))
    out.insert(0, "key", keys)
    return out


def _parts(columns: list[str], rows: list[tuple], group: str | None, sign: int = 1
           ) -> tuple[np.ndarray | None, np.ndarray]:
    """Rows of [key,] COUNT_NAMES (sums over no rows are NULL: 0) as (keys, int64 matrix)."""
    if not rows:
        return None, np.zeros((0, len(COUNT_NAMES)), dtype=np.int64)
    at = [columns.index(n) for n in COUNT_NAMES]
    table = np.array(rows, dtype=object)
    values = np.nan_to_num(table[:, at].astype(float)).astype(np.int64) * sign
    keys = None
    if group:
        keys = table[:, columns.index("key")]
        keys = keys.astype(np.int64) if all(isinstance(k, (int, np.integer)) for k in keys) else keys
    return keys, values


def counts(conn: Connection, filters: Filters, viewer: Viewer, group: str | None,
           purpose: str = "aggregate") -> pd.DataFrame:
    """The counts of COUNT_NAMES for the cohort, overall or per group (key).

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
                part = _parts(*_raw_counts(conn, filters.narrowed(date_from=a, date_to=b), viewer, group, purpose),
                              group, sign)
                subtracted |= sign < 0 and len(part[1]) > 0
                parts.append(part)
    minus: list = []
    if node in DAY_NODES:
        p, minus = day_cells_plan(p)
        subtracted = bool(minus)
    if p.years or p.months or p.days:
        cond, params = _cell_filter(filters, d, viewer, purpose=purpose)
        params["dims"] = node
        source = cells_sql(d, "agg_counts", p, params, f"c.dims = :dims and {cond}", minus)
        key_sql, join = _cell_keys(group)
        weight = " * c.sgn" if minus else ""
        sums = ", ".join(f"sum(c.{n}{weight}) as {n}" for n in COUNT_NAMES)
        parts.append(_parts(*fetch(conn, f"""
select {key_sql + ' as key, ' if group else ''}{sums}
from {source} c {join}{' group by ' + key_sql if group else ''}""", params), group))
    out = _combine(parts, group)
    if subtracted and group:  # a group whose appeals all fell on the subtracted days has none
        out = out[out["received"] != 0].reset_index(drop=True)
    return out


def _edges_from_appeals(p: Pieces, filters: Filters, read, measures: list[str]
                        ) -> tuple[Pieces, list[pd.DataFrame], bool]:
    """The edge days of `p` read from the appeals as edge_plan says: `read(filters)` gives a frame
    of additive `measures`; a subtracted run's are negated. Returns the pieces left for the cells,
    the frames read, and whether any frame was subtracted."""
    p, add, subtract = edge_plan(p)
    frames, subtracted = [], False
    for sign, runs in ((1, add), (-1, subtract)):
        for a, b in runs:
            raw = read(filters.narrowed(date_from=a, date_to=b))
            if sign < 0 and len(raw):
                raw[measures] = -raw[measures].apply(pd.to_numeric).fillna(0)
                subtracted = True
            frames.append(raw)
    return p, frames, subtracted


def _raw_counts(conn: Connection, filters: Filters, viewer: Viewer, group: str | None,
                purpose: str = "aggregate") -> tuple[list[str], list[tuple]]:
    d = dialect_of(conn)
    cond, params = where(filters, d, viewer, purpose)
    key, joins = _raw_keys(group)
    exprs = ", ".join(f"{e} as {n}" for n, e in few_rows(STORED_CONDITIONS).items())
    return fetch(conn, f"""
select {key + ' as key, ' if group else ''}{exprs}
from appeals a{joins} where {cond}{' group by ' + key if group else ''}""", params)


def pending(conn: Connection, filters: Filters, viewer: Viewer, now: dt.datetime, group: str | None,
            bucket: str | None = None) -> pd.DataFrame:
    """Unanswered appeals of the cohort whose deadline is at or after `now`: pending, pending_open."""
    d = dialect_of(conn)
    cond, params = where(filters, d, viewer)
    params["now"] = d.ts_param(now)
    key, joins = _raw_keys(group)
    keys = ([f"{key} as key"] if group else []) + ([f"{d.bucket('a.received_at', bucket)} as bucket"] if bucket else [])
    n_keys = len(keys)
    return run(conn, f"""
select {', '.join(keys) + ', ' if keys else ''}count(*) as pending,
       count(case when a.status in {OPEN} then 1 end) as pending_open
from appeals a{d.indexed_by('ix_appeals_unanswered_due')}{joins}
where {UNANSWERED} and a.response_due_at >= :now and {cond}
{'group by ' + ', '.join(str(i + 1) for i in range(n_keys)) if n_keys else ''}""", params)


def histogram(conn: Connection, filters: Filters, viewer: Viewer, group: str | None, metrics: Iterable[int],
              by_urgency: bool = False) -> pd.DataFrame:
    """Histogram rows of the cohort: [key,] metric, [urgent,] bucket, n (a key/bucket may repeat).

    For a node in HIST_NODES: whole months from stored cells; edge days from day
    cells where kept (every metric for the empty node, first response for one-dimension nodes),
    else bucketed from the appeals of those days (then the filters narrow them).
    """
    d = dialect_of(conn)
    node = stored_node(node_for(filters, group))
    metrics = sorted({int(m) for m in metrics})
    p = pieces(filters.date_from, filters.date_to, years=node in YEAR_HIST_NODES)
    frames, subtracted = [], False
    if p.days and not set(metrics) <= set(day_hist_metrics(node)):  # no day cells for these metrics
        p, frames, subtracted = _edges_from_appeals(
            p, filters, lambda f: raw_histogram(conn, f, viewer, group, metrics, by_urgency), ["n"])
    if p.years or p.months or p.days:
        cond, params = _cell_filter(filters, d, viewer, "c")
        params["dims"] = node
        params["p_metrics"] = metrics
        source = cells_sql(d, "agg_hist", p, params, f"c.dims = :dims and c.metric in :p_metrics and {cond}")
        key_sql, join = _cell_keys(group)
        names = _hist_names(group, by_urgency)
        keys = [n for n in names if n != "bucket"]
        columns = ", ".join(f"{key_sql} as key" if n == "key" else f"c.{n}" for n in keys)
        if d.pg:  # one row per key: the cells' packed records end to end (decode_hist sums repeated buckets)
            stored = run(conn, f"""
select {columns}, string_agg(c.hist, ''::bytea) as hist
from {source} c {join} group by {', '.join(str(i + 1) for i in range(len(keys)))}""", params)
        else:
            stored = run(conn, f"select {columns}, c.hist from {source} c {join}", params)
        frames.append(decode_hist(stored, keys))
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=_hist_names(group, by_urgency) + ["n"])
    out = pd.concat(frames, ignore_index=True)
    if subtracted:  # net counts per bucket; a bucket (a key) emptied by the subtraction is gone
        names = _hist_names(group, by_urgency)
        out["n"] = pd.to_numeric(out["n"])
        out = out.groupby(names, as_index=False, sort=False)["n"].sum()
        out = out[out["n"] != 0].reset_index(drop=True)
    return out


def _hist_names(group: str | None, by_urgency: bool) -> list[str]:
    return (["key"] if group else []) + ["metric"] + (["urgent"] if by_urgency else []) + ["bucket"]


def raw_histogram(conn: Connection, filters: Filters, viewer: Viewer, group: str | None, metrics: Iterable[int],
                  by_urgency: bool = False) -> pd.DataFrame:
    """The cohort's appeals bucketed as the stored histograms are: [key,] metric, [urgent,] bucket, n.

    The values are read and bucketed here, as the build buckets them (bucket_of): one read of the
    rows, where bucketing in SQL read them once per metric and evaluated the buckets' CASE for each."""
    d = dialect_of(conn)
    cond, params = where(filters, d, viewer)
    metrics = sorted({int(m) for m in metrics})
    key, joins = _raw_keys(group)
    if "join topics t" not in joins:
        joins += " join topics t on t.id = a.topic_id"
    values = timed_values(d)
    rows = run(conn, f"""
select {key + ' as key, ' if group else ''}case when t.is_urgent then 1 else 0 end as urgent,
       {', '.join(f'{values[m]} as h{m}' for m in metrics)}
from appeals a{joins} where {cond}""", params)
    names = _hist_names(group, by_urgency)
    long = bucketed(rows, metrics, [n for n in names if n not in ("metric", "bucket")])
    if long.empty:
        return pd.DataFrame(columns=names + ["n"])
    return long.groupby(names, sort=False).size().reset_index(name="n")


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
