"""Response times: the distribution against the norm and what is overdue right now."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from queries import summaries
from queries.dialect import dialect_of
from queries.filters import Filters, where
from queries.measures import BUCKET_LOWER, UNANSWERED_OPEN
from queries.pii import for_viewer
from queries.run import run
from queries.viewer import Viewer

MAX_BIN = 24  # the last bin holds 24 working hours and more


def response_histogram(conn: Connection, filters: Filters, viewer: Viewer, *, raw: bool = False) -> pd.DataFrame:
    """One row per whole working hour to first response (0..24, 24 = 24+): bin, urgent, appeals."""
    if not raw and summaries.usable(conn, viewer):
        h = summaries.histogram(conn, filters, viewer, None, [1], by_urgency=True)
        h["bin"] = np.minimum(np.floor(BUCKET_LOWER[pd.to_numeric(h["bucket"]).astype(int)]), MAX_BIN)
        df = (h.assign(appeals=pd.to_numeric(h["n"]), urgent=pd.to_numeric(h["urgent"]))
              .groupby(["bin", "urgent"], as_index=False)["appeals"].sum())
        return _typed_histogram(df)
    d = dialect_of(conn)
    cond, params = where(filters, d, viewer)
    x = "a.first_response_work_hours"
    df = run(conn, f"""
select case when {x} >= {MAX_BIN} then {MAX_BIN} else {d.floor(x)} end as bin,
       t.is_urgent as urgent, count(*) as appeals
from appeals a join topics t on t.id = a.topic_id
where {cond} and {x} is not null
group by 1, 2 order by 1, 2""", params)
    return _typed_histogram(df)


def _typed_histogram(df: pd.DataFrame) -> pd.DataFrame:
    df["bin"] = pd.to_numeric(df["bin"]).astype(int)
    df["urgent"] = df["urgent"].astype(bool)
    df["appeals"] = pd.to_numeric(df["appeals"]).astype("int64")
    return df.sort_values(["bin", "urgent"]).reset_index(drop=True)


def overdue_now(conn: Connection, filters: Filters, viewer: Viewer, now: dt.datetime, limit: int = 1000) -> pd.DataFrame:
    """Open appeals with no response past their deadline, oldest deadline first (one row per appeal)."""
    d = dialect_of(conn)
    cond, params = where(filters, d, viewer, "cases")
    params.update(now=d.ts_param(now), limit=int(limit))
    df = run(conn, f"""
select a.id, a.received_at, a.response_due_at, {d.hours_between('a.response_due_at', ':now')} as overdue_hours,
       o.id as executor_id, o.name_ru as executor, m.name_ru as territory, t.name_ru as topic, a.status,
       substr(a.text, 1, 200) as text
from appeals a{d.indexed_by('ix_appeals_unanswered_due')}
  join organizations o on o.id = a.organization_id
  join municipalities m on m.id = a.municipality_id
  join topics t on t.id = a.topic_id
where {cond} and {UNANSWERED_OPEN}
  and a.response_due_at < :now
order by a.response_due_at asc, a.id asc
limit :limit""", params)
    for col in ("received_at", "response_due_at"):
        df[col] = pd.to_datetime(df[col], utc=True)
    df["overdue_hours"] = pd.to_numeric(df["overdue_hours"])
    return for_viewer(df, viewer)


def escalation_flow(conn: Connection, filters: Filters, viewer: Viewer) -> pd.DataFrame:
    """One row per (from executor, to body): escalations and median working hours before escalating."""
    d = dialect_of(conn)
    cond, params = where(filters, d, viewer)
    # grouped by ids alone, names joined to the few groups: sorting the escalations with their
    # names spilled to disk at 10 M appeals
    df = run(conn, f"""
select x.from_id, f.name_ru as from_name, f.kind as from_kind, x.to_id, o.name_ru as to_name, x.escalations,
       x.median_hours
from (select a.organization_id as from_id, a.escalated_to_id as to_id, count(*) as escalations,
             {d.percentile('a.escalation_work_hours', 0.5)} as median_hours
      from appeals a{d.indexed_by('ix_appeals_escalated_received')}
      where {cond} and a.escalated_at is not null
      group by a.organization_id, a.escalated_to_id) x
  join organizations f on f.id = x.from_id
  join organizations o on o.id = x.to_id
order by x.escalations desc, from_name""", params)
    df["escalations"] = pd.to_numeric(df["escalations"]).astype("int64")
    df["median_hours"] = pd.to_numeric(df["median_hours"])
    return df
