"""KPI counts and medians for a cohort, overall or per dimension. Grain: one row per group."""
from __future__ import annotations

import datetime as dt

import numpy as np
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


# The timeline events of a removed comment or a blocked author (partial index ix_appeal_events_moderation).
MODERATION = "kind in ('comment_removed', 'author_blocked')"
# Counts that do not depend on `now`, each as a per-appeal 0/1 flag over appeals `a`; a count is the
# flag's sum (the summary tables store these sums).
ROW_FLAGS = {
    "received": "1",
    "closed": f"case when a.status in {CLOSED} then 1 else 0 end",
    "resolved": "case when a.status = 'resolved' then 1 else 0 end",
    "open": f"case when a.status in {OPEN} then 1 else 0 end",
    "confirmed": "case when a.status = 'resolved' and a.citizen_feedback = 'confirmed' then 1 else 0 end",
    "resolved_with_feedback": "case when a.status = 'resolved' and a.citizen_feedback is not null then 1 else 0 end",
    "false_closures": "case when a.status = 'resolved' and (a.citizen_feedback = 'disputed'"
                      " or a.reopened_count > 0) then 1 else 0 end",
    "satisfied": "case when a.citizen_rating >= 4 then 1 else 0 end",
    "rated": "case when a.citizen_rating is not null then 1 else 0 end",
    "escalated": "case when a.escalated_at is not null then 1 else 0 end",
    "removed": f"case when a.id in (select appeal_id from appeal_events where {MODERATION}) then 1 else 0 end",
    "on_time": "case when a.first_response_at is not null and a.first_response_at <= a.response_due_at then 1 else 0 end",
    "late": "case when a.first_response_at is not null and a.first_response_at > a.response_due_at then 1 else 0 end",
}
FIXED_COUNTS = {name: "count(*)" if flag == "1" else f"sum({flag})" for name, flag in ROW_FLAGS.items()}
# The same counts for a few appeals (the edge days a summary query reads from the appeals): the
# moderation flag probes each appeal's timeline through its index instead of hashing every
# moderation event of the database first.
FEW_ROWS_COUNTS = {**FIXED_COUNTS, "removed": "sum(case when exists (select 1 from appeal_events"
                   f" where appeal_id = a.id and {MODERATION}) then 1 else 0 end)"}
# ...and the two that do: unanswered appeals past their deadline at :now.
NOW_COUNTS = {
    "no_response_overdue": "sum(case when a.first_response_at is null and a.response_due_at < :now then 1 else 0 end)",
    "overdue_now": f"sum(case when a.first_response_at is null and a.status in {OPEN}"
                   " and a.response_due_at < :now then 1 else 0 end)",
}


def percentile_sql(d, names=None) -> dict[str, str]:
    """The medians and percentiles of a cohort: name → SQL aggregate over appeals `a`."""
    fr_hours = d.hours_between("a.received_at", "a.first_response_at")
    close_days = d.days_between("a.received_at", "a.closed_at")
    out = {
        "first_response_median": d.percentile("a.first_response_work_hours", 0.5),
        "first_response_p90": d.percentile("a.first_response_work_hours", 0.9),
        "first_response_median_calendar": d.percentile(fr_hours, 0.5),
        "close_time_median": d.percentile(f"case when a.status in {CLOSED} then {close_days} end", 0.5),
        "time_before_escalation": d.percentile("a.escalation_work_hours", 0.5),
    }
    return {k: v for k, v in out.items() if names is None or k in names}


def kpi_sql(d, cond: str, group: str | None, percentiles: bool = True) -> str:
    """The plain approach: every KPI by one GROUP BY over appeals (the baseline of the summaries)."""
    key = f"{GROUPS[group]} as key, " if group else ""
    group_by = f" group by {GROUPS[group]}" if group else ""
    exprs = {**FIXED_COUNTS, **NOW_COUNTS, **(percentile_sql(d) if percentiles else {})}
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
    Read from the summary tables when they are built (see queries.summary); `raw=True` reads
    the appeals table with one GROUP BY (the plain approach, kept as the reference).
    """
    from queries import summary

    if raw or not summary.usable(conn, viewer):
        d = dialect_of(conn)
        cond, params = where(filters, d, viewer)
        params["now"] = d.ts_param(now)
        df = run(conn, kpi_sql(d, cond, group, percentiles), params)
        if group and percentiles:
            df = df.drop(columns=[c for c in percentile_sql(d) if c not in GROUPED_PERCENTILES])
        for col in df.columns:
            if col != "key":
                df[col] = pd.to_numeric(df[col], errors="coerce")
        if not percentiles:
            for col in _percentile_columns(group):
                df[col] = np.nan
    else:
        df = _assemble(*_read_parts(conn, filters, viewer, now, group, percentiles), group)
    return with_shares(df)


GROUPED_PERCENTILES = ("first_response_median", "first_response_p90")


def _percentile_columns(group: str | None) -> list[str]:
    """The percentiles a KPI frame carries: all of them, or for a grouped frame the first response's."""
    from queries import summary
    return list(GROUPED_PERCENTILES) if group else list(summary.PERCENTILES)


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
    from queries import summary

    c = summary.counts(conn, filters, viewer, group)
    pend = summary.pending(conn, filters, viewer, now, group)
    hist = None
    if percentiles:
        metrics = {summary.PERCENTILES[col][0] for col in _percentile_columns(group)}
        hist = summary.histogram(conn, filters, viewer, group, metrics)
    return c, pend, hist


def _assemble(c: pd.DataFrame, pend: pd.DataFrame, hist: pd.DataFrame | None, group: str | None) -> pd.DataFrame:
    """A KPI frame (before shares) from _read_parts' pieces; percentiles empty when hist is None."""
    from queries import summary

    keys = c["key"].to_numpy() if group else None
    cols = {name: c[name].to_numpy(dtype=np.int64) if len(c) else np.zeros(0 if group else 1, dtype=np.int64)
            for name in summary.COUNT_NAMES}
    pending = np.nan_to_num(_aligned(keys, pend, "pending")).astype(np.int64)
    pending_open = np.nan_to_num(_aligned(keys, pend, "pending_open")).astype(np.int64)
    out = {name: cols[name] for name in FIXED_COUNTS}
    out["no_response_overdue"] = cols["no_response"] - pending
    out["overdue_now"] = cols["no_response_open"] - pending_open
    wanted = _percentile_columns(group)
    pct = None if hist is None else summary.hist_percentiles(hist, wanted, bool(group))
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
    from queries import summary

    if not summary.usable(conn, viewer):  # with shares either way: recomputing them changes nothing
        return kpi_frame(conn, filters, viewer, now, "territory"), kpi_frame(conn, filters, viewer, now, "municipality")
    c, pend, hist = _read_parts(conn, filters, viewer, now, "municipality", True)
    top = dict(zip(territories["id"].astype(int), territories["parent_id"].fillna(territories["id"]).astype(int)))

    def to_top(df: pd.DataFrame) -> pd.DataFrame:
        return df.assign(key=df["key"].astype(int).map(top))

    counts = to_top(c).groupby("key", as_index=False)[list(summary.COUNT_NAMES)].sum()
    pending = to_top(pend).groupby("key", as_index=False)[["pending", "pending_open"]].sum()
    by_territory = _assemble(counts, pending, to_top(hist), "territory")  # histogram rows may repeat a key
    by_municipality = _assemble(c, pend, hist, "municipality")
    if not shares:
        return by_territory, by_municipality
    return with_shares(by_territory), with_shares(by_municipality)


def with_shares(df: pd.DataFrame) -> pd.DataFrame:
    """Counts as integers (0 where a group had no rows), on_time_base, then every share of metrics.py."""
    for col in COUNT_COLUMNS:
        if df[col].dtype != np.int64:
            df[col] = df[col].fillna(0).astype("int64")
    df["on_time_base"] = df["on_time"] + df["late"] + df["no_response_overdue"]
    return derive(df)


# ---- like for like ------------------------------------------------------------------------------
#
# Resolved, closed, confirmed, rated, escalated and answered appeals grow with time: a period that
# ended yesterday has had a day to close its appeals, the period before it a month more. The
# previous period is therefore compared as it stood at the same age: every flag below counts what
# had happened by `as_of` (the current moment shifted back by the periods' distance), from the
# times the appeals and their timelines record. A rating has no time of its own: it counts when
# its appeal had been closed by then (ratings follow the closing). docs/metrics.md states the rule.
FEEDBACK_AT = ("(select min(x.at) from appeal_events x where x.appeal_id = a.id"
               " and x.kind in ('citizen_confirmed', 'citizen_disputed'))")
AS_OF_FLAGS = {
    "received": "1",
    "closed": f"case when a.status in {CLOSED} and a.closed_at <= :asof then 1 else 0 end",
    "resolved": "case when a.status = 'resolved' and a.closed_at <= :asof then 1 else 0 end",
    "open": f"case when not (a.status in {CLOSED} and a.closed_at <= :asof) then 1 else 0 end",
    "confirmed": "case when a.status = 'resolved' and a.closed_at <= :asof and a.citizen_feedback = 'confirmed'"
                 f" and {FEEDBACK_AT} <= :asof then 1 else 0 end",
    "resolved_with_feedback": "case when a.status = 'resolved' and a.closed_at <= :asof and a.citizen_feedback"
                              f" is not null and {FEEDBACK_AT} <= :asof then 1 else 0 end",
    "false_closures": "case when a.status = 'resolved' and a.closed_at <= :asof and (a.citizen_feedback = 'disputed'"
                      " or a.reopened_count > 0) then 1 else 0 end",
    "satisfied": "case when a.citizen_rating >= 4 and a.closed_at <= :asof then 1 else 0 end",
    "rated": "case when a.citizen_rating is not null and a.closed_at <= :asof then 1 else 0 end",
    "escalated": "case when a.escalated_at <= :asof then 1 else 0 end",
    "removed": f"case when a.id in (select appeal_id from appeal_events where {MODERATION} and at <= :asof)"
               " then 1 else 0 end",
    "on_time": "case when a.first_response_at <= :asof and a.first_response_at <= a.response_due_at then 1 else 0 end",
    "late": "case when a.first_response_at <= :asof and a.first_response_at > a.response_due_at then 1 else 0 end",
    "no_response_overdue": "case when (a.first_response_at is null or a.first_response_at > :asof)"
                           " and a.response_due_at < :asof then 1 else 0 end",
    "overdue_now": f"case when (a.first_response_at is null or a.first_response_at > :asof) and a.status in {OPEN}"
                   " and a.response_due_at < :asof then 1 else 0 end",
}


def kpi_as_of(conn: Connection, filters: Filters, viewer: Viewer, as_of: dt.datetime) -> pd.DataFrame:
    """The cohort's KPIs (one row, as kpi_frame's) as they stood at `as_of`: what had been answered,
    closed, confirmed and escalated by then. Read from the appeals: the summaries hold final states."""
    d = dialect_of(conn)
    cond, params = where(filters, d, viewer)
    params["asof"] = d.ts_param(as_of)
    close_days = d.days_between("a.received_at", "a.closed_at")
    exprs = {name: "count(*)" if flag == "1" else f"sum({flag})" for name, flag in AS_OF_FLAGS.items()}
    exprs.update({
        "first_response_median": d.percentile(
            "case when a.first_response_at <= :asof then a.first_response_work_hours end", 0.5),
        "first_response_p90": d.percentile(
            "case when a.first_response_at <= :asof then a.first_response_work_hours end", 0.9),
        "close_time_median": d.percentile(
            f"case when a.status in {CLOSED} and a.closed_at <= :asof then {close_days} end", 0.5),
        "time_before_escalation": d.percentile(
            "case when a.escalated_at <= :asof then a.escalation_work_hours end", 0.5),
    })
    columns = ",\n  ".join(f"{expr} as {name}" for name, expr in exprs.items())
    df = run(conn, f"select\n  {columns}\nfrom appeals a\nwhere {cond}", params)
    for col in df.columns:
        df[col] = pd.to_numeric(df[col], errors="coerce")
    df["first_response_median_calendar"] = np.nan
    return with_shares(df)
