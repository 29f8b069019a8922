"""Volumes over time. Grain: one row per local day, ISO week or month."""
from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy.engine import Connection

from queries import summaries
from queries.dialect import dialect_of
from queries.filters import Filters, where
from queries.measures import GROUPS, count, flag_conditions, overdue_conditions
from queries.metrics import with_bases
from queries.run import run
from queries.viewer import Viewer


def _dates(df: pd.DataFrame) -> pd.DataFrame:
    df["bucket"] = pd.to_datetime(df["bucket"]).dt.date
    return df


def received_closed(conn: Connection, filters: Filters, viewer: Viewer, grain: str, *, raw: bool = False) -> pd.DataFrame:
    """bucket, received (appeals received in the bucket), closed (appeals closed in the bucket, a flow)."""
    if not raw and summaries.usable(conn, viewer) and summaries.series_supported(filters, None, grain):
        received = summaries.series(conn, filters, viewer, grain, ["received"])
        closed = summaries.series(conn, filters, viewer, grain, ["closed"], table="agg_closed")
        return _merge_flows(received, closed)
    d = dialect_of(conn)
    cond, params = where(filters, d, viewer)
    ccond, cparams = where(filters, d, viewer, with_dates=False)
    start, end = filters.utc_bounds()
    cparams.update(c_start=d.ts_param(start), c_end=d.ts_param(end))
    received = run(conn, f"""
select {d.bucket('a.received_at', grain)} as bucket, count(*) as received
from appeals a where {cond} group by 1 order by 1""", params)
    closed = run(conn, f"""
select {d.bucket('a.closed_at', grain)} as bucket, count(*) as closed
from appeals a where {ccond} and a.closed_at >= :c_start and a.closed_at < :c_end group by 1 order by 1""", cparams)
    return _merge_flows(received, closed)


def _merge_flows(received: pd.DataFrame, closed: pd.DataFrame) -> pd.DataFrame:
    out = _dates(received).merge(_dates(closed), on="bucket", how="outer").fillna(0)
    out[["received", "closed"]] = out[["received", "closed"]].astype("int64")
    return out.sort_values("bucket").reset_index(drop=True)


def kpi_trend(conn: Connection, filters: Filters, viewer: Viewer, grain: str, now: dt.datetime,
              by: str | None = None, *, raw: bool = False) -> pd.DataFrame:
    """bucket[, key], received, resolved, on_time, on_time_base — per received-date bucket (the
    on-time share's parts: metrics.BASES)."""
    if not raw and summaries.usable(conn, viewer) and summaries.series_supported(filters, by, grain):
        return _kpi_trend_from_summaries(conn, filters, viewer, grain, now, by)
    d = dialect_of(conn)
    cond, params = where(filters, d, viewer)
    params["now"] = d.ts_param(now)
    key_sql, join = (GROUPS[by].raw_key, GROUPS[by].raw_join) if by else ("", "")
    key = f", {key_sql} as key" if by else ""
    conditions = {**flag_conditions(), **overdue_conditions(":now")}
    exprs = ",\n  ".join(f"{count(conditions[c])} as {c}" for c in TREND_COUNTS)
    df = run(conn, f"""
select {d.bucket('a.received_at', grain)} as bucket{key},
  {exprs}
from appeals a{join}
where {cond} group by 1{', 2' if key else ''} order by 1""", params)
    return _trend_frame(df, ["bucket"] + (["key"] if by else []))


TREND_COUNTS = ("received", "resolved", "on_time", "late", "no_response_overdue")


def _trend_frame(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    for c in TREND_COUNTS:
        df[c] = pd.to_numeric(df[c]).fillna(0).astype("int64")
    df = with_bases(_dates(df))
    return df[keys + ["received", "resolved", "on_time", "on_time_base"]]


def _kpi_trend_from_summaries(conn: Connection, filters: Filters, viewer: Viewer, grain: str, now: dt.datetime,
                              by: str | None) -> pd.DataFrame:
    """The unanswered past their deadline: the stored unanswered minus those whose deadline is ahead."""
    df = _dates(summaries.series(conn, filters, viewer, grain, ["received", "resolved", "on_time", "late", "no_response"],
                                 by=by))
    pend = summaries.pending(conn, filters, viewer, now, by, bucket=grain)
    keys = ["bucket"] + (["key"] if by else [])
    if len(pend):
        df = df.merge(_dates(pend)[keys + ["pending"]], on=keys, how="left")
    else:
        df["pending"] = 0
    df["no_response_overdue"] = pd.to_numeric(df["no_response"]).fillna(0) - pd.to_numeric(df["pending"]).fillna(0)
    return _trend_frame(df, keys)
