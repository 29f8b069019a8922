"""Volumes over time. Grain: one row per local day, ISO week or month."""
from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy.engine import Connection

from queries import summary
from queries.dialect import dialect_of
from queries.filters import Filters, where
from queries.run import run
from queries.viewer import Viewer


def _dates(df: pd.DataFrame) -> pd.DataFrame:
    df["bucket"] = pd.to_datetime(df["bucket"]).dt.date
    return df


def received_closed(conn: Connection, filters: Filters, viewer: Viewer, grain: str, *, raw: bool = False) -> pd.DataFrame:
    """bucket, received (appeals received in the bucket), closed (appeals closed in the bucket, a flow)."""
    if not raw and summary.usable(conn, viewer) and summary.series_supported(filters, None, grain):
        received = summary.series(conn, filters, viewer, grain, ["received"])
        closed = summary.series(conn, filters, viewer, grain, ["closed"], table="agg_closed")
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
    """bucket[, key], received, on_time, on_time_base, resolved — per received-date bucket."""
    if not raw and summary.usable(conn, viewer) and summary.series_supported(filters, by, grain):
        return _kpi_trend_from_summaries(conn, filters, viewer, grain, now, by)
    d = dialect_of(conn)
    cond, params = where(filters, d, viewer)
    params["now"] = d.ts_param(now)
    key_sql = {"topic": "a.topic_id", "category": "coalesce(t.parent_id, t.id)", None: None}[by]
    key = f", {key_sql} as key" if key_sql else ""
    df = run(conn, f"""
select {d.bucket('a.received_at', grain)} as bucket{key},
  count(*) as received,
  sum(case when a.status = 'resolved' then 1 else 0 end) as resolved,
  sum(case when a.first_response_at is not null and a.first_response_at <= a.response_due_at then 1 else 0 end) as on_time,
  sum(case when a.first_response_at is not null or a.response_due_at < :now then 1 else 0 end) as on_time_base
from appeals a join topics t on t.id = a.topic_id
where {cond} group by 1{', 2' if key else ''} order by 1""", params)
    for c in ("received", "resolved", "on_time", "on_time_base"):
        df[c] = pd.to_numeric(df[c]).astype("int64")
    return _dates(df)


def _kpi_trend_from_summaries(conn: Connection, filters: Filters, viewer: Viewer, grain: str, now: dt.datetime,
                              by: str | None) -> pd.DataFrame:
    """on_time_base = received − unanswered appeals whose deadline is still ahead."""
    df = _dates(summary.series(conn, filters, viewer, grain, ["received", "resolved", "on_time"], by=by))
    pend = summary.pending(conn, filters, viewer, now, by, bucket=grain)
    keys = ["bucket"] + (["key"] if by else [])
    if len(pend):
        df = df.merge(_dates(pend)[keys + ["pending"]], on=keys, how="left")
    else:
        df["pending"] = 0
    for c in ("received", "resolved", "on_time", "pending"):
        df[c] = pd.to_numeric(df[c]).fillna(0).astype("int64")
    df["on_time_base"] = df["received"] - df["pending"]
    return df[keys + ["received", "resolved", "on_time", "on_time_base"]]
