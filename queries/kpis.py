"""KPI counts and medians for a cohort, overall or per dimension. Grain: one row per group."""
from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy.engine import Connection

from queries.dialect import dialect_of
from queries.filters import Filters, where
from queries.metrics import derive
from queries.run import run
from queries.viewer import Viewer

OPEN = "('new', 'assigned', 'in_progress')"
CLOSED = "('resolved', 'explained', 'declined')"

# group key expression → column name; "territory" counts a city district for its city.
GROUPS = {
    "territory": "coalesce(m.parent_id, m.id)",
    "municipality": "a.municipality_id",
    "topic": "a.topic_id",
    "category": "coalesce(t.parent_id, t.id)",
    "source": "a.source",
    "executor": "a.organization_id",
}


# The additive columns of kpi_sql (NULL-free counts); the rest are medians, NULL when nothing to measure.
COUNT_COLUMNS = ("received", "closed", "resolved", "open", "confirmed", "resolved_with_feedback", "false_closures",
                 "satisfied", "rated", "escalated", "removed", "on_time", "late", "no_response_overdue",
                 "overdue_now")


def kpi_sql(d, cond: str, group: str | None) -> str:
    fr_hours = d.hours_between("a.received_at", "a.first_response_at")
    close_days = d.days_between("a.received_at", "a.closed_at")
    key = f"{GROUPS[group]} as key, " if group else ""
    group_by = f" group by {GROUPS[group]}" if group else ""
    return f"""
select {key}
  count(*) as received,
  sum(case when a.status in {CLOSED} then 1 else 0 end) as closed,
  sum(case when a.status = 'resolved' then 1 else 0 end) as resolved,
  sum(case when a.status in {OPEN} then 1 else 0 end) as open,
  sum(case when a.status = 'resolved' and a.citizen_feedback = 'confirmed' then 1 else 0 end) as confirmed,
  sum(case when a.status = 'resolved' and a.citizen_feedback is not null then 1 else 0 end) as resolved_with_feedback,
  sum(case when a.status = 'resolved' and (a.citizen_feedback = 'disputed' or a.reopened_count > 0) then 1 else 0 end) as false_closures,
  sum(case when a.citizen_rating >= 4 then 1 else 0 end) as satisfied,
  sum(case when a.citizen_rating is not null then 1 else 0 end) as rated,
  sum(case when a.escalated_at is not null then 1 else 0 end) as escalated,
  sum(case when a.id in (select appeal_id from appeal_events where kind in ('comment_removed', 'author_blocked'))
      then 1 else 0 end) as removed,
  sum(case when a.first_response_at is not null and a.first_response_at <= a.response_due_at then 1 else 0 end) as on_time,
  sum(case when a.first_response_at is not null and a.first_response_at > a.response_due_at then 1 else 0 end) as late,
  sum(case when a.first_response_at is null and a.response_due_at < :now then 1 else 0 end) as no_response_overdue,
  sum(case when a.first_response_at is null and a.status in {OPEN} and a.response_due_at < :now then 1 else 0 end) as overdue_now,
  {d.percentile("a.first_response_work_hours", 0.5)} as first_response_median,
  {d.percentile("a.first_response_work_hours", 0.9)} as first_response_p90,
  {d.percentile(fr_hours, 0.5)} as first_response_median_calendar,
  {d.percentile(f"case when a.status in {CLOSED} then {close_days} end", 0.5)} as close_time_median,
  {d.percentile("a.escalation_work_hours", 0.5)} as time_before_escalation
from appeals a
  join municipalities m on m.id = a.municipality_id
  join topics t on t.id = a.topic_id
where {cond}{group_by}
"""


def kpi_frame(conn: Connection, filters: Filters, viewer: Viewer, now: dt.datetime, group: str | None = None) -> pd.DataFrame:
    """KPIs of the filtered cohort; with `group`, one row per group value in column `key`.

    Columns: the counts above, medians in working hours (first response, escalation) and
    calendar days (closing), then every share of metrics.py with its `_n` and `_low` columns.
    """
    d = dialect_of(conn)
    cond, params = where(filters, d, viewer)
    params["now"] = d.ts_param(now)
    df = run(conn, kpi_sql(d, cond, group), params)
    for col in df.columns:
        if col != "key":
            df[col] = pd.to_numeric(df[col], errors="coerce")
    return with_shares(df)


def with_shares(df: pd.DataFrame) -> pd.DataFrame:
    """Counts as integers (0 where a group had no rows), on_time_base, then every share of metrics.py."""
    cols = list(COUNT_COLUMNS)
    df[cols] = df[cols].fillna(0).astype("int64")
    df["on_time_base"] = df["on_time"] + df["late"] + df["no_response_overdue"]
    return derive(df)
