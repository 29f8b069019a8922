"""Cells from appeals: one narrow read of the appeals, each row's flags packed into one integer,
summed in pandas into the cells of every node and grain (SQLite's GROUP BY over a million rows,
once per node, took minutes; this is the same code for both databases). A delta's rows carry a
weight `w` (-1: as they were, +1: as they are) and are summed the same way.
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection

from queries.dialect import Dialect, dialect_of
from queries.localtime import day_start
from queries.measures import COUNT_NAMES, HIST_METRICS, STORED_CONDITIONS, bucket_of, flag, timed_values
from queries.schema import SOURCES
from queries.summaries.codec import DIM_COLUMNS, GRAINS, NO_DAY, day_numbers, encode_hist, group_sum
from queries.summaries.lattice import (DAY_NODES, DIMS, FULL, HIST_NODES, STORED_NODES, YEAR_HIST_NODES,
                                       day_hist_metrics, parent)


FLAG_NAMES = [n for n in COUNT_NAMES if n != "received"]


def _read_sql(d: Dialect) -> str:
    packed = " + ".join(f"{1 << i} * ({flag(STORED_CONDITIONS[n])})" for i, n in enumerate(FLAG_NAMES))
    values = ", ".join(f"{sql} as h{m}" for m, sql in timed_values(d).items())
    return f"""select {d.local_date('a.received_at')} as day, {d.local_date('a.closed_at')} as cday,
  a.municipality_id, a.topic_id, a.source, a.organization_id, case when t.is_urgent then 1 else 0 end as urgent,
  {packed} as flags, {values}
from appeals a join topics t on t.id = a.topic_id"""


def read_days(conn: Connection, d: Dialect, col: str, lo: dt.date, hi: dt.date) -> pd.DataFrame:
    """Appeals whose `col` falls on local days lo ≤ day < hi, as the narrow frame of _read_sql,
    with integer days and source codes."""
    return appeal_rows(conn, f"a.{col} >= :lo and a.{col} < :hi",
                       {"lo": d.ts_param(day_start(lo)), "hi": d.ts_param(day_start(hi))})


def appeal_rows(conn: Connection, cond: str, params: dict | None = None) -> pd.DataFrame:
    """The appeals meeting `cond` (SQL over the alias a) as the narrow frame of _read_sql, with
    integer days and source codes: what the build reads, and what a delta is made of."""
    result = conn.execute(text(_read_sql(dialect_of(conn)) + f" where {cond}"), params or {})
    # the DB-API cursor's plain tuples: a frame from them is five times faster than from Row objects
    df = pd.DataFrame.from_records(result.cursor.fetchall(), columns=list(result.keys()))
    for c in ("day", "cday"):
        df[c] = day_numbers(df[c])
    df["source"] = pd.Categorical(df["source"], categories=SOURCES).codes.astype(np.int8)
    for c in ("municipality_id", "topic_id", "organization_id"):
        df[c] = pd.to_numeric(df[c]).astype(np.int32)
    return df


def _unpack(df: pd.DataFrame) -> pd.DataFrame:
    """One count per appeal and measure: 0 or 1, times the row's weight `w` where the frame has
    one (a delta's -1 or +1)."""
    flags = pd.to_numeric(df["flags"]).to_numpy(np.int64)
    weight = df["w"].to_numpy(np.int64) if "w" in df.columns else 1
    out = df[["day", *DIM_COLUMNS]].copy()
    out["received"] = weight
    for i, name in enumerate(FLAG_NAMES):
        out[name] = ((flags >> i) & 1) * weight
    return out


def _node_frame(cells: pd.DataFrame, node: int, grain: str, period: str, measures: list[str],
                extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """Cells of `node` at `grain` from finer cells: group on the node's dimensions and the period."""
    dims = [c for c, b in DIMS.items() if node & b]
    out = group_sum(cells, [period, *dims, *extra], measures).rename(columns={period: "period"})
    for c, b in DIMS.items():
        if not node & b:
            out[c] = -1 if c == "source" else 0
    out["dims"] = np.int8(node)
    out["grain"] = np.int8(GRAINS.index(grain))
    return out


def month_numbers(days: pd.Series) -> np.ndarray:
    """Day numbers → the day number of their month's first day."""
    months = days.to_numpy().astype("datetime64[D]").astype("datetime64[M]")
    return months.astype("datetime64[D]").astype(np.int64).astype(np.int32)


def _count_cells(fine: pd.DataFrame, measures: list[str]) -> tuple[list[pd.DataFrame], list[pd.DataFrame]]:
    """Day cells of the small nodes and month cells of every stored node, from finest day cells:
    (day frames, month frames), one frame per node."""
    days = [_node_frame(fine, node, "d", "day", measures) for node in DAY_NODES]
    fine = fine.assign(month=month_numbers(fine["day"]))
    finest_m = _node_frame(fine, FULL, "m", "month", measures)
    months = {FULL: finest_m}
    for node in STORED_NODES[1:]:
        months[node] = _node_frame(months[parent(node)], node, "m", "period", measures)
    return days, list(months.values())


def bucketed(df: pd.DataFrame, metrics: Iterable[int], carry: list[str]) -> pd.DataFrame:
    """One row per appeal and measured metric (its value h{metric} in hours not NULL): the
    `carry` columns, metric, bucket (the reads bucket with bucket_of as this does)."""
    parts = []
    for metric in metrics:
        v = pd.to_numeric(df[f"h{metric}"]).to_numpy(float)
        keep = ~np.isnan(v)
        if keep.any():
            part = df.loc[keep, carry].copy()
            part["metric"] = metric
            part["bucket"] = bucket_of(np.maximum(v[keep], 0))
            parts.append(part)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=[*carry, "metric", "bucket"])


def _long_hist(df: pd.DataFrame) -> pd.DataFrame:
    """One row per appeal and measured metric: day, month, dimensions, urgent, metric, bucket, n
    (1, or the row's weight `w` where the frame has one: a delta's -1 or +1)."""
    weighted = "w" in df.columns
    long = bucketed(df, HIST_METRICS, ["day", *DIM_COLUMNS, "urgent", *(["w"] if weighted else [])])
    if long.empty:
        return pd.DataFrame()
    long["n"] = long.pop("w") if weighted else 1
    long["month"] = month_numbers(long["day"])
    return long


HIST_KEY = ("metric", "urgent", "bucket")


def _hist_cells(long: pd.DataFrame) -> tuple[list[pd.DataFrame], list[pd.DataFrame]]:
    """Bucket counts (long form): by day for DAY_NODES (the metrics of day_hist_metrics), every
    metric by month for all of HIST_NODES: (day frames, month frames), one frame per node."""
    if long.empty:
        return [], []
    first = long[long["metric"] == 1]
    days = [_node_frame(long if len(day_hist_metrics(node)) > 1 else first, node, "d", "day", ["n"], HIST_KEY)
           for node in DAY_NODES]
    months = {FULL: _node_frame(long, FULL, "m", "month", ["n"], HIST_KEY)}
    for node in HIST_NODES[1:]:  # each from the node one dimension finer: far fewer rows than `long`
        months[node] = _node_frame(months[parent(node)], node, "m", "period", ["n"], HIST_KEY)
    return days, list(months.values())


def years_of(months: list[pd.DataFrame], nodes: tuple[int, ...], measures: list[str],
           extra: tuple[str, ...] = ()) -> list[pd.DataFrame]:
    """Year cells of `nodes` from their month cells (frames of _node_frame, one node each)."""
    out = []
    for m in months:
        if m.empty or int(m["dims"].iloc[0]) not in nodes:
            continue
        year = m["period"].to_numpy().astype("datetime64[D]").astype("datetime64[Y]")
        y = m.assign(period=year.astype("datetime64[D]").astype(np.int64).astype(np.int32))
        y = group_sum(y, ["period", *DIM_COLUMNS, *extra], measures)
        y["dims"] = m["dims"].iloc[0]
        y["grain"] = np.int8(GRAINS.index("y"))
        out.append(y)
    return out


def cells_of(df: pd.DataFrame, years: bool) -> tuple[list[pd.DataFrame], list[pd.DataFrame], pd.DataFrame]:
    """The cells of the appeals `df` (appeal_rows, weighted by `w` where it has one), by day and
    month, and by year when `years` (df then holds whole calendar years): count frames, histogram
    frames (long form, for encode_hist), and closings per day of closing (for closed_cells)."""
    measures = list(COUNT_NAMES)
    days, months = _count_cells(group_sum(_unpack(df), ["day", *DIM_COLUMNS], measures), measures)
    counts = days + months + (years_of(months, STORED_NODES, measures) if years else [])
    days, months = _hist_cells(_long_hist(df))
    hist = days + months + (years_of(months, YEAR_HIST_NODES, ["n"], HIST_KEY) if years else [])
    return counts, hist, closings(df)


def closings(df: pd.DataFrame) -> pd.DataFrame:
    """Closings (weighted by `w` where the frame has one) per local day of closing and dimensions."""
    closed = df.loc[df["cday"] != NO_DAY, ["cday", *DIM_COLUMNS, *(["w"] if "w" in df.columns else [])]]
    closed = closed.rename(columns={"cday": "day", "w": "closed"})
    if "closed" not in closed.columns:
        closed["closed"] = 1
    return group_sum(closed, ["day", *DIM_COLUMNS], ["closed"])


def closed_cells(fine: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """Closing cells from closings per day (frames of closings)."""
    fine = [c for c in fine if len(c)]
    if not fine:
        return []
    fine = group_sum(pd.concat(fine, ignore_index=True), ["day", *DIM_COLUMNS], ["closed"])
    return sum(_count_cells(fine, ["closed"]), [])


def encoded(hist: list[pd.DataFrame]) -> pd.DataFrame:
    return encode_hist(pd.concat(hist or [pd.DataFrame()], ignore_index=True))
