"""Volumes over time. Grain: one row per local day, ISO week or month."""
from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy.engine import Connection

from queries.dialect import dialect_of
from queries.filters import Filters, where
from queries.run import run
from queries.viewer import Viewer


def _dates(df: pd.DataFrame) -> pd.DataFrame:
    df["bucket"] = pd.to_datetime(df["bucket"]).dt.date
    return df


def received_closed(conn: Connection, filters: Filters, viewer: Viewer, grain: str) -> pd.DataFrame:
    """bucket, received (appeals received in the bucket), closed (appeals closed in the bucket, a flow)."""
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
    out = _dates(received).merge(_dates(closed), on="bucket", how="outer").fillna(0)
    out[["received", "closed"]] = out[["received", "closed"]].astype("int64")
    return out.sort_values("bucket").reset_index(drop=True)


def kpi_trend(conn: Connection, filters: Filters, viewer: Viewer, grain: str, now: dt.datetime,
              by: str | None = None) -> pd.DataFrame:
    """bucket[, key], received, on_time, on_time_base, resolved — per received-date bucket."""
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
