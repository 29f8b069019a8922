"""KPI counts and medians for a cohort, overall or per dimension. Grain: one row per group."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from queries import summaries
from queries.dialect import dialect_of
from queries.filters import Filters, where
from queries.measures import (COUNT_NAMES, FIXED_NAMES, GROUPED_PERCENTILES, GROUPS, PERCENTILES,
                              counts, flag_conditions, overdue_conditions, percentile_sql)
from queries.metrics import with_shares
from queries.run import run
from queries.viewer import Viewer


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
              *, raw: bool = False, percentiles: bool = True) -> pd.DataFrame:
    """KPIs of the filtered cohort; with `group`, one row per group value in column `key`.

    Columns: the counts above, medians in working hours (first response, escalation) and
    calendar days (closing), then every share of metrics.py with its `_n` and `_low` columns.
    A grouped frame carries the first-response median and 90th percentile only.
    `percentiles=False`: the same frame with every percentile left empty (NaN), for a page that
    shows counts and shares only; the response-time histograms are then not read.
    Read from the summary tables when they are built (see queries.summaries); `raw=True` reads
    the appeals table with one GROUP BY (the plain approach, kept as the reference).
    """
    if raw or not summaries.usable(conn, viewer):
        return with_shares(_plain_frame(conn, filters, viewer, now, group, percentiles))
    return with_shares(_assemble(*_read_parts(conn, filters, viewer, now, group, percentiles), group))


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


def _percentile_columns(group: str | None) -> list[str]:
    """The percentiles a KPI frame carries: all of them, or for a grouped frame the first response's."""
    return list(GROUPED_PERCENTILES) if group else list(PERCENTILES)


def _aligned(keys: np.ndarray | None, frame: pd.DataFrame, column: str, fill=0.0) -> np.ndarray:
    """frame[column] placed on `keys` (frame has a `key` column), or its single value when ungrouped."""
    if keys is None:
        return pd.to_numeric(frame[column]).to_numpy(dtype=float)[:1] if len(frame) else np.array([fill])
    out = np.full(len(keys), fill, dtype=float)
    if len(frame):
        idx = pd.Index(keys).get_indexer(frame["key"].to_numpy())
        ok = idx >= 0
        out[idx[ok]] = pd.to_numeric(frame[column]).to_numpy(dtype=float)[ok]
    return out


def _read_parts(conn: Connection, filters: Filters, viewer: Viewer, now: dt.datetime, group: str | None,
                percentiles: bool) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """What a KPI frame is made of, from the summaries: counts, pending, histogram rows (None
    without percentiles)."""
    c = summaries.counts(conn, filters, viewer, group)
    pend = summaries.pending(conn, filters, viewer, now, group)
    hist = None
    if percentiles:
        metrics = {PERCENTILES[col].metric for col in _percentile_columns(group)}
        hist = summaries.histogram(conn, filters, viewer, group, metrics)
    return c, pend, hist


def _assemble(c: pd.DataFrame, pend: pd.DataFrame, hist: pd.DataFrame | None, group: str | None) -> pd.DataFrame:
    """A KPI frame (before shares) from _read_parts' pieces; percentiles empty when hist is None."""
    keys = c["key"].to_numpy() if group else None
    cols = {name: c[name].to_numpy(dtype=np.int64) if len(c) else np.zeros(0 if group else 1, dtype=np.int64)
            for name in COUNT_NAMES}
    pending = np.nan_to_num(_aligned(keys, pend, "pending")).astype(np.int64)
    pending_open = np.nan_to_num(_aligned(keys, pend, "pending_open")).astype(np.int64)
    out = {name: cols[name] for name in FIXED_NAMES}
    out["no_response_overdue"] = cols["no_response"] - pending
    out["overdue_now"] = cols["no_response_open"] - pending_open
    wanted = _percentile_columns(group)
    pct = None if hist is None else summaries.hist_percentiles(hist, wanted, bool(group))
    for col in wanted:
        out[col] = np.full(len(cols["received"]), np.nan) if pct is None else _aligned(keys, pct, col, np.nan)
    return pd.DataFrame({"key": keys, **out} if group else out)


def territory_frames(conn: Connection, filters: Filters, viewer: Viewer, now: dt.datetime,
                     territories: pd.DataFrame, shares: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The KPI frames per territory and per municipality (kpi_frame's "territory" and
    "municipality"), from one read of the municipalities' cells: a territory's counts and
    histograms are the sums of its own (a city's, of its districts'). The league needs both.
    `territories`: reference.territories (id, parent_id), which the league has read already.
    `shares=False`: counts and percentiles only, for a caller that adds the shares itself."""
    if not summaries.usable(conn, viewer):  # with shares either way: recomputing them changes nothing
        return kpi_frame(conn, filters, viewer, now, "territory"), kpi_frame(conn, filters, viewer, now, "municipality")
    c, pend, hist = _read_parts(conn, filters, viewer, now, "municipality", True)
    top = dict(zip(territories["id"].astype(int), territories["parent_id"].fillna(territories["id"]).astype(int)))

    def to_top(df: pd.DataFrame) -> pd.DataFrame:
        return df.assign(key=df["key"].astype(int).map(top))

    counts = to_top(c).groupby("key", as_index=False)[list(COUNT_NAMES)].sum()
    pending = to_top(pend).groupby("key", as_index=False)[["pending", "pending_open"]].sum()
    by_territory = _assemble(counts, pending, to_top(hist), "territory")  # histogram rows may repeat a key
    by_municipality = _assemble(c, pend, hist, "municipality")
    if not shares:
        return by_territory, by_municipality
    return with_shares(by_territory), with_shares(by_municipality)


# ---- like for like ------------------------------------------------------------------------------
#
# Resolved, closed, confirmed, rated, escalated and answered appeals grow with time: a period that
# ended yesterday has had a day to close its appeals, the period before it a month more. The
# previous period is therefore compared as it stood at the same age: every count and percentile
# judged at `as_of` (the current moment shifted back by the periods' distance), from the times the
# appeals and their timelines record (queries/measures.py writes each flag with its as-of form).
# docs/metrics.md states the rule.

def kpi_as_of(conn: Connection, filters: Filters, viewer: Viewer, as_of: dt.datetime) -> pd.DataFrame:
    """The cohort's KPIs (one row, as kpi_frame's) as they stood at `as_of`: what had been answered,
    closed, confirmed and escalated by then. Read from the appeals: the summaries hold final states."""
    d = dialect_of(conn)
    cond, params = where(filters, d, viewer)
    params["asof"] = d.ts_param(as_of)
    exprs = {**counts(flag_conditions(":asof")), **counts(overdue_conditions(":asof", ":asof")),
             **percentile_sql(d, [c for c in PERCENTILES if c != "first_response_median_calendar"], ":asof")}
    columns = ",\n  ".join(f"{expr} as {name}" for name, expr in exprs.items())
    df = run(conn, f"select\n  {columns}\nfrom appeals a\nwhere {cond}", params)
    for col in df.columns:
        df[col] = pd.to_numeric(df[col], errors="coerce")
    df["first_response_median_calendar"] = np.nan
    return with_shares(df)
