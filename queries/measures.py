"""What every figure is made of, defined once: statuses, per-appeal flags, group keys, timed values
and the histogram buckets. Every path reads these: the plain GROUP BY over appeals, the summary
build and its reads, the deltas, the trends and the like-for-like comparison.

A leaf: it imports nothing of the project but the schema's value lists, so that the summaries and
the KPI frames can both depend on it without depending on each other.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from queries.schema import CLOSED_STATUSES, OPEN_STATUSES


def _sql_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


OPEN = _sql_list(OPEN_STATUSES)
CLOSED = _sql_list(CLOSED_STATUSES)
MEASURED = "a.response_measured = 1"
UNANSWERED = f"a.first_response_at is null and {MEASURED}"  # = schema.UNANSWERED_WHERE
UNANSWERED_OPEN = f"{UNANSWERED} and a.status in {OPEN}"

# The timeline events of a removed comment or a blocked author (partial index ix_appeal_events_moderation).
MODERATION = "kind in ('comment_removed', 'author_blocked')"
# When the citizen confirmed or disputed a resolution (the appeal keeps only the latest verdict).
VERDICTS = "('citizen_confirmed', 'citizen_disputed')"
FEEDBACK_AT = f"(select min(x.at) from appeal_events x where x.appeal_id = a.id and x.kind in {VERDICTS})"


def _verdict_by(asof: str) -> str:
    """The appeal's verdict had been given by `asof` (for an appeal with a verdict): its time is
    looked up only for the few with a verdict after `asof`, whose ids come from
    ix_appeal_events_verdict_at (probing every appeal's timeline took 11 s for a year at 10 M
    appeals). An appeal with a verdict has its event (the seeder and the importer write both), so
    one without a later verdict had it by then."""
    later = f"select appeal_id from appeal_events where kind in {VERDICTS} and at > {asof}"
    return f"(a.id not in ({later}) or {FEEDBACK_AT} <= {asof})"


# ---- per-appeal flags -----------------------------------------------------------------------------
#
# Each count of a KPI is the sum of a 0/1 flag over appeals `a`. A flag is written once, with the
# moment it is judged at: `asof=None` judges the appeal as it is now (what the summaries store),
# `asof=":asof"` as it stood at that bound moment (the like-for-like previous period: what had
# been answered, closed, confirmed by then). A rating has no time of its own: it counts once its
# appeal was closed (ratings follow the closing).

def _by(column: str, asof: str | None) -> str:
    """The event in `column` had happened (by `asof`)."""
    return f"a.{column} is not null" if asof is None else f"a.{column} <= {asof}"


def flag_conditions(asof: str | None = None, few: bool = False) -> dict[str, str]:
    """Every count's condition over appeals `a` (None: every appeal counts)."""
    closed = f"a.status in {CLOSED}" if asof is None else f"a.status in {CLOSED} and {_by('closed_at', asof)}"
    resolved = "a.status = 'resolved'" if asof is None else f"a.status = 'resolved' and {_by('closed_at', asof)}"
    # `few`: a few appeals (kpi_as_of's changed ones) probe their timelines for the verdict's time
    verdict = "" if asof is None else f" and {FEEDBACK_AT} <= {asof}" if few else f" and {_verdict_by(asof)}"
    answered = _by("first_response_at", asof)
    return {
        "received": None,
        "closed": closed,
        "resolved": resolved,
        "open": f"a.status in {OPEN}" if asof is None else f"not ({closed})",
        "confirmed": f"{resolved} and a.citizen_feedback = 'confirmed'{verdict}",
        "resolved_with_feedback": f"{resolved} and a.citizen_feedback is not null{verdict}",
        "false_closures": f"{resolved} and (a.citizen_feedback = 'disputed' or a.reopened_count > 0)",
        "satisfied": "a.citizen_rating >= 4" + ("" if asof is None else f" and {_by('closed_at', asof)}"),
        "rated": "a.citizen_rating is not null" + ("" if asof is None else f" and {_by('closed_at', asof)}"),
        "escalated": _by("escalated_at", asof),
        "removed": "a.id in (select appeal_id from appeal_events where "
                   f"{MODERATION}{'' if asof is None else f' and at <= {asof}'})",
        "on_time": f"{answered} and {MEASURED} and a.first_response_at <= a.response_due_at",
        "late": f"{answered} and {MEASURED} and a.first_response_at > a.response_due_at",
        # the appeals response figures leave out: no response times, or a response known to the day
        "unmeasured": f"not ({MEASURED})",
    }


TIMES_CHANGED = ("(a.first_response_at is null or a.first_response_at > {asof} or a.closed_at is null"
                 " or a.closed_at > {asof} or a.escalated_at > {asof})")


def changed_after(asof: str, ids: str = "") -> str:
    """The appeal `a` changed after `asof`: it was answered, closed, escalated, given its verdict
    or moderated after it, or is still unanswered or open. Every flag and timed value of any other
    appeal is the same in its as-of form as now. Its times are read from
    ix_appeals_received_changes, the verdicts and moderations from their partial indexes.
    `ids`: SQL bounds of the cohort's ids (changed_events)."""
    return f"({TIMES_CHANGED.format(asof=asof)} or a.id in ({changed_events(asof, ids)}))"


def changed_events(asof: str, ids: str = "") -> str:
    """SQL: the ids of the appeals given a verdict or moderated after `asof`; with `ids` ("between
    … and …", the cohort's id bounds) only those. Most verdicts after a moment are later appeals':
    bounded, the verdicts' index reads the cohort's few instead of every one since (a year at
    10 M appeals: 870 000 read and hashed, 1.2 s, against 4 000)."""
    # `+ 0` on the verdicts: SQLite otherwise walks ix_appeal_events_appeal_at over every event of
    # the cohort's ids (a year at 1 M appeals: 254 ms) instead of the verdicts' index (32 ms)
    within = f" and appeal_id {ids}" if ids else ""
    verdicts_within = f" and appeal_id + 0 {ids}" if ids else ""
    return (f"select appeal_id from appeal_events where kind in {VERDICTS} and at > {asof}{verdicts_within}"
            f" union all select appeal_id from appeal_events where {MODERATION} and at > {asof}{within}")


def unanswered(asof: str | None = None) -> str:
    """No first response (by `asof`)."""
    return UNANSWERED if asof is None else f"({UNANSWERED} or a.first_response_at > {asof})"


def overdue_conditions(at: str, asof: str | None = None) -> dict[str, str]:
    """The counts that depend on a moment `at`: unanswered (by `asof`) past the deadline at `at`,
    and of those the appeals still open."""
    late = f"{unanswered(asof)} and a.response_due_at < {at}"
    return {"no_response_overdue": late, "overdue_now": f"{late} and a.status in {OPEN}"}


# The flags of the summary cells: every count that does not depend on a moment, and the unanswered
# appeals (open or not); the overdue counts are these minus the unanswered whose deadline is ahead.
STORED_CONDITIONS = {**flag_conditions(), "no_response": unanswered(),
                     "no_response_open": f"{unanswered()} and a.status in {OPEN}"}
COUNT_NAMES = tuple(STORED_CONDITIONS)  # the additive columns of the summary cells
FIXED_NAMES = tuple(flag_conditions())  # ... of which the counts a KPI frame shows as they are
COUNT_COLUMNS = (*FIXED_NAMES, "no_response_overdue", "overdue_now")  # a KPI frame's counts


def flag(condition: str | None) -> str:
    """A condition as a 0/1 value (None: always 1)."""
    return "1" if condition is None else f"case when {condition} then 1 else 0 end"


def count(condition: str | None) -> str:
    """A condition as a count aggregate: counting a value only where it holds is cheaper than
    summing a 0 or 1 for every row (SQLite: 12 % over a month's 21 000 appeals), and gives 0,
    not NULL, over no rows."""
    return "count(*)" if condition is None else f"count(case when {condition} then 1 end)"


def counts(conditions: dict[str, str | None]) -> dict[str, str]:
    return {name: count(cond) for name, cond in conditions.items()}


def few_rows(conditions: dict[str, str | None]) -> dict[str, str]:
    """The same counts for a few appeals (the edge days a summary query reads from the appeals): the
    moderation flag probes each appeal's timeline through its index instead of hashing every
    moderation event of the database first."""
    out = counts(conditions)
    if "removed" in out:
        out["removed"] = f"count(case when exists (select 1 from appeal_events where appeal_id = a.id and {MODERATION})" \
                         " then 1 end)"
    return out


# ---- group keys -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Group:
    """A dimension a figure is broken down by: its summary dimension bit, its key over appeals `a`
    (with the join it needs) and over summary cells `c` (with theirs). A territory counts a city
    district for its city."""
    dim: int
    raw_key: str
    cell_key: str
    raw_join: str = ""
    cell_join: str = ""


GROUPS = {
    "territory": Group(1, "coalesce(m.parent_id, m.id)", "coalesce(m.parent_id, m.id)",
                       " join municipalities m on m.id = a.municipality_id",
                       " join municipalities m on m.id = c.municipality_id"),
    "municipality": Group(1, "a.municipality_id", "c.municipality_id"),
    "topic": Group(2, "a.topic_id", "c.topic_id"),
    "category": Group(2, "coalesce(t.parent_id, t.id)", "coalesce(t.parent_id, t.id)",
                      " join topics t on t.id = a.topic_id", " join topics t on t.id = c.topic_id"),
    "source": Group(4, "a.source", "c.source"),
    "executor": Group(8, "a.organization_id", "c.organization_id"),
}


# ---- timed values and percentiles -----------------------------------------------------------------

@dataclass(frozen=True)
class Timed:
    """A duration measured per appeal, in hours: its histogram metric number, and the event (column)
    by which it exists (for the like-for-like read)."""
    metric: int
    event: str


TIMED = {
    "first_response_work": Timed(1, "first_response_at"),
    "first_response_calendar": Timed(2, "first_response_at"),
    "close_time": Timed(3, "closed_at"),
    "escalation_work": Timed(4, "escalated_at"),
}
HIST_METRICS = tuple(t.metric for t in TIMED.values())


def timed_values(d) -> dict[int, str]:
    """SQL: each timed value in hours over appeals `a` by metric number (NULL: not measured). `d`:
    the database's queries.dialect.Dialect."""
    return {1: "a.first_response_work_hours",
            2: f"case when {MEASURED} then {d.hours_between('a.received_at', 'a.first_response_at')} end",
            3: f"case when a.status in {CLOSED} then {d.hours_between('a.received_at', 'a.closed_at')} end",
            4: "a.escalation_work_hours"}


@dataclass(frozen=True)
class Percentile:
    """A KPI column that is a percentile of a timed value, in its unit (divisor: hours per unit)."""
    timed: str
    q: float
    divisor: float = 1.0

    @property
    def metric(self) -> int:
        return TIMED[self.timed].metric


PERCENTILES = {
    "first_response_median": Percentile("first_response_work", 0.5),
    "first_response_p90": Percentile("first_response_work", 0.9),
    "first_response_median_calendar": Percentile("first_response_calendar", 0.5),
    "close_time_median": Percentile("close_time", 0.5, 24.0),
    "time_before_escalation": Percentile("escalation_work", 0.5),
}
GROUPED_PERCENTILES = ("first_response_median", "first_response_p90")  # what a grouped frame carries


def percentile_sql(d, names=None, asof: str | None = None) -> dict[str, str]:
    """The percentiles of a cohort: name → SQL aggregate over appeals `a`; with `asof`, over the
    values that existed by then."""
    values = timed_values(d)
    out = {}
    for name, p in PERCENTILES.items():
        if names is not None and name not in names:
            continue
        value = values[p.metric]
        if asof is not None:
            value = f"case when {_by(TIMED[p.timed].event, asof)} then {value} end"
        out[name] = d.percentile(value if p.divisor == 1 else f"({value}) / {p.divisor}", p.q)
    return out


# ---- histogram buckets ------------------------------------------------------------------------------
#
# Buckets, in minutes: (segment end, bucket width). One-minute buckets up to 8 hours, where
# first-response medians live; a quarter hour to 2 days; 2 hours to 2 weeks; a day to a year; one
# last bucket beyond. Boundaries fall on whole hours up to 2 weeks.
SEGMENTS = ((480, 1), (2880, 15), (20160, 120), (525600, 1440))


def _bucket_table() -> tuple[np.ndarray, np.ndarray]:
    lower, width, start = [], [], 0
    for end, w in SEGMENTS:
        n = (end - start) // w
        lower.extend(start + w * np.arange(n))
        width.extend([w] * n)
        start = end
    lower.append(start)
    width.append(0)  # the overflow bucket: its lower bound is the estimate
    return np.array(lower, dtype=float) / 60, np.array(width, dtype=float) / 60


BUCKET_LOWER, BUCKET_WIDTH = _bucket_table()  # hours, indexed by bucket
OVERFLOW = len(BUCKET_LOWER) - 1


_SEGMENT_END = np.array([end for end, _ in SEGMENTS], dtype=float)  # minutes
_SEGMENT_START = np.concatenate(([0.0], _SEGMENT_END[:-1]))
_SEGMENT_WIDTH = np.array([w for _, w in SEGMENTS], dtype=float)
_SEGMENT_BASE = np.concatenate(([0], np.cumsum((_SEGMENT_END - _SEGMENT_START) // _SEGMENT_WIDTH)[:-1]))


def bucket_of(hours: np.ndarray | float) -> np.ndarray:
    """The bucket of a value in hours (the build and the reads from appeals both bucket with it):
    within its segment, floor((minutes − start) / width) from the segment's first bucket; the
    overflow bucket beyond the last segment (and for NaN or a negative value). The segment is
    found by a binary search rather than by testing each: a small cohort's values are bucketed
    per figure (bench.figures)."""
    minutes = np.asarray(hours, dtype=float) * 60
    seg = np.searchsorted(_SEGMENT_END, minutes, "right")  # NaN sorts last: the overflow
    inside = (seg < len(SEGMENTS)) & (minutes >= 0)
    s = np.where(inside, seg, 0)
    out = np.where(inside, _SEGMENT_BASE[s] + np.floor((minutes - _SEGMENT_START[s]) / _SEGMENT_WIDTH[s]), OVERFLOW)
    return out.astype(int)


def bucket_width(hours: float) -> float:
    """How far a percentile from the histograms may be from the exact one, at this value."""
    return float(BUCKET_WIDTH[int(bucket_of(hours))])
