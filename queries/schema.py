"""The canonical schema of data-model.md as SQLAlchemy 2 metadata; names are a contract."""
from __future__ import annotations

from sqlalchemy import (
    BigInteger, Boolean, CheckConstraint, Column, Date, DateTime, Float, ForeignKey, Index, Integer, LargeBinary,
    MetaData, SmallInteger, Table, Text, false, func, literal_column, text, true,
)
from sqlalchemy.dialects import sqlite

# ISO-8601 UTC text in SQLite ("2024-05-01T09:30:00"), timestamptz in PostgreSQL.
SQLITE_TS_FORMAT = "%(year)04d-%(month)02d-%(day)02dT%(hour)02d:%(minute)02d:%(second)02d"
SQLITE_TS_REGEXP = r"(\d+)-(\d+)-(\d+)[T ](\d+):(\d+):(\d+)"
UtcTimestamp = DateTime(timezone=True).with_variant(
    sqlite.DATETIME(storage_format=SQLITE_TS_FORMAT, regexp=SQLITE_TS_REGEXP), "sqlite"
)
BigId = BigInteger().with_variant(Integer(), "sqlite")  # SQLite rowid aliasing needs INTEGER

OPEN_STATUSES = ("new", "assigned", "in_progress")
CLOSED_STATUSES = ("resolved", "explained", "declined")
SOURCES = ("vk", "ok", "telegram", "instagram", "facebook", "pos", "website", "other")
SOCIAL_SOURCES = ("vk", "ok", "telegram", "instagram", "facebook")
EVENT_KINDS = (
    "received", "assigned", "reassigned", "response", "interim_response", "escalated", "closed",
    "citizen_confirmed", "citizen_disputed", "reopened", "comment_removed", "author_blocked",
)
MUNICIPALITY_KINDS = ("urban_okrug", "municipal_district", "municipal_okrug", "city_district")
ORGANIZATION_KINDS = ("ministry", "regional_agency", "municipal_admin", "clinic", "utility", "other")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} in ({', '.join(repr(v) for v in values)})"


municipalities = Table(
    "municipalities", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", Text, nullable=False, unique=True),
    Column("name_ru", Text, nullable=False),
    Column("name_en", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("parent_id", Integer, ForeignKey("municipalities.id"), nullable=True),
    Column("population", Integer, nullable=False),
    Column("population_year", Integer, nullable=True),
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    # extensions
    Column("oktmo", Text, nullable=True),
    Column("center_ru", Text, nullable=True),
    CheckConstraint(_in("kind", MUNICIPALITY_KINDS), name="kind"),
)

topics = Table(
    "topics", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", Text, nullable=False, unique=True),
    Column("name_ru", Text, nullable=False),
    Column("name_en", Text, nullable=False),
    Column("parent_id", Integer, ForeignKey("topics.id"), nullable=True),
    Column("response_norm_hours", Float, nullable=False),
    Column("is_urgent", Boolean, nullable=False, default=False),
)

organizations = Table(
    "organizations", metadata,
    Column("id", Integer, primary_key=True),
    Column("name_ru", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("parent_id", Integer, ForeignKey("organizations.id"), nullable=True),
    Column("municipality_id", Integer, ForeignKey("municipalities.id"), nullable=True),
    # extensions
    Column("code", Text, nullable=False, unique=True),
    Column("name_en", Text, nullable=True),
    Column("short_name_ru", Text, nullable=True),
    CheckConstraint(_in("kind", ORGANIZATION_KINDS), name="kind"),
)

appeals = Table(
    "appeals", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("external_id", Text, nullable=False, unique=True),
    Column("source", Text, nullable=False),
    Column("source_url", Text, nullable=True),
    Column("author_ref", Text, nullable=True),
    Column("text", Text, nullable=False),
    Column("received_at", UtcTimestamp, nullable=False),
    Column("municipality_id", Integer, ForeignKey("municipalities.id"), nullable=False),
    Column("topic_id", Integer, ForeignKey("topics.id"), nullable=False),
    Column("organization_id", Integer, ForeignKey("organizations.id"), nullable=False),
    Column("status", Text, nullable=False),
    Column("response_due_at", UtcTimestamp, nullable=False),
    Column("first_response_at", UtcTimestamp, nullable=True),
    Column("closed_at", UtcTimestamp, nullable=True),
    Column("escalated_at", UtcTimestamp, nullable=True),
    Column("escalated_to_id", Integer, ForeignKey("organizations.id"), nullable=True),
    Column("citizen_feedback", Text, nullable=True),
    Column("citizen_rating", SmallInteger, nullable=True),
    Column("reopened_count", Integer, nullable=False, default=0, server_default="0"),
    Column("reach", Integer, nullable=True),
    # extensions: working hours between received_at and the event, by the production calendar
    Column("first_response_work_hours", Float, nullable=True),
    Column("escalation_work_hours", Float, nullable=True),
    # extension: 0 when the appeal's source gave no response times (an import whose mapping reads
    # none): its response is not measured, neither on time nor late nor overdue (docs/metrics.md)
    Column("response_measured", SmallInteger, nullable=False, server_default="1"),
    CheckConstraint(_in("source", SOURCES), name="source"),
    CheckConstraint(_in("status", OPEN_STATUSES + CLOSED_STATUSES), name="status"),
    CheckConstraint("citizen_feedback is null or citizen_feedback in ('confirmed', 'disputed')", name="feedback"),
    CheckConstraint("citizen_rating is null or citizen_rating between 1 and 5", name="rating"),
    CheckConstraint(
        f"(closed_at is null) = (status in ({', '.join(repr(s) for s in OPEN_STATUSES)}))", name="closed_status"
    ),
    CheckConstraint("first_response_at is null or first_response_at >= received_at", name="response_order"),
    CheckConstraint("closed_at is null or closed_at >= received_at", name="closed_order"),
    CheckConstraint("escalated_at is null or escalated_at >= received_at", name="escalated_order"),
)
Index("ix_appeals_closed_at", appeals.c.closed_at)  # closings per day (trend, summary refresh)
Index("ix_appeals_received_at", appeals.c.received_at)  # every cohort is a period of receipt; the summary build
# a cohort narrowed by one dimension, read from the appeals (edge days, executors, the case list on SQLite)
Index("ix_appeals_municipality_received", appeals.c.municipality_id, appeals.c.received_at)
Index("ix_appeals_topic_received", appeals.c.topic_id, appeals.c.received_at)
Index("ix_appeals_organization_received", appeals.c.organization_id, appeals.c.received_at)
Index("ix_appeals_source_received", appeals.c.source, appeals.c.received_at)
Index("ix_appeals_escalated_to", appeals.c.escalated_to_id)  # an executor's scope: escalated to it
Index("ix_appeals_open_due", appeals.c.status, appeals.c.response_due_at)  # what is open, by deadline
# Full-text search with Russian morphology (PostgreSQL; SQLite matches stems, see dialect.text_match):
# GIN on text_tsv, a column that PostgreSQL generates and stores from `text` (the baseline migration): a
# search does not compute to_tsvector for each row it checks. It
# is not part of this metadata, so that writers never name it and SQLite never has it.
POSTGRESQL_ONLY_INDEXES: list[str] = []  # created on PostgreSQL only (absent from an SQLite schema)


def _postgresql_only(index: Index) -> Index:
    POSTGRESQL_ONLY_INDEXES.append(index.name)
    return index.ddl_if(dialect="postgresql")


_postgresql_only(Index("ix_appeals_text_fts", literal_column("text_tsv"), postgresql_using="gin"))

appeal_events = Table(
    "appeal_events", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("appeal_id", BigId, ForeignKey("appeals.id", ondelete="CASCADE"), nullable=False),
    Column("at", UtcTimestamp, nullable=False),
    Column("kind", Text, nullable=False),
    Column("organization_id", Integer, ForeignKey("organizations.id"), nullable=True),
    Column("note", Text, nullable=True),
    CheckConstraint(_in("kind", EVENT_KINDS), name="kind"),
)
Index("ix_appeal_events_appeal_at", appeal_events.c.appeal_id, appeal_events.c.at)  # a case's timeline
Index("ix_appeal_events_kind", appeal_events.c.kind)  # events of one kind (feedback times, like for like)

# Facts about the database itself: what generated it, when it was last loaded.
dataset_info = Table(
    "dataset_info", metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

# Local sign-in (when no OIDC provider is configured) and the audit trail.
users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", Text, nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("territory_code", Text, nullable=True),
    Column("executor_code", Text, nullable=True),
    Column("display_name", Text, nullable=True),
    Column("disabled", Boolean, nullable=False, server_default=false()),
    Column("created_at", UtcTimestamp, nullable=False),
    CheckConstraint("role in ('analyst', 'press', 'head', 'executor')", name="role"),
)
audit_log = Table(
    "audit_log", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UtcTimestamp, nullable=False),
    Column("username", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("target", Text, nullable=True),
    Column("details", Text, nullable=True),
)
Index("ix_audit_log_at", audit_log.c.at)  # the audit page, newest first

# A signed-in browser: a random token in an HttpOnly cookie, stored here only as its SHA-256, so
# that a copy of the database signs nobody in. A ticket (also hashed, single use, short-lived) is
# how the page hands the sign-in over to the cookie endpoint (dashboard/gate.py).
user_sessions = Table(
    "user_sessions", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("username", Text, nullable=False),
    Column("ticket_hash", Text, nullable=True, unique=True),
    Column("token_hash", Text, nullable=True, unique=True),
    Column("created_at", UtcTimestamp, nullable=False),
    Column("last_seen_at", UtcTimestamp, nullable=False),
    Column("expires_at", UtcTimestamp, nullable=False),
    Column("revoked_at", UtcTimestamp, nullable=True),
    Column("client", Text, nullable=True),
)
Index("ix_user_sessions_username", user_sessions.c.username)  # signing a user out everywhere
# A user's standing order of the briefing or the press release (reports.subscriptions), and each
# period delivered: the (subscription, period) key makes a sending happen once, however often
# `python -m reports send-due` runs.
subscriptions = Table(
    "subscriptions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("every", Text, nullable=False),
    Column("email", Text, nullable=False),
    Column("territory_code", Text, nullable=True),  # narrower than the user's scope, never wider
    Column("created_at", UtcTimestamp, nullable=False),
    Column("active", Boolean, nullable=False, server_default=true()),
    CheckConstraint("kind in ('briefing', 'press')", name="kind"),
    CheckConstraint("every in ('week', 'month')", name="every"),
)
deliveries = Table(
    "deliveries", metadata,
    Column("subscription_id", Integer, ForeignKey("subscriptions.id"), primary_key=True),
    Column("period_start", Date, primary_key=True),
    Column("period_end", Date, nullable=False),
    Column("claimed_at", UtcTimestamp, nullable=False),
    Column("sent_at", UtcTimestamp, nullable=True),
)
# Failed sign-ins, counted per name and per client address across browser sessions (throttling).
sign_in_failures = Table(
    "sign_in_failures", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UtcTimestamp, nullable=False),
    Column("username", Text, nullable=False),
    Column("client", Text, nullable=True),
)
Index("ix_sign_in_failures_username_at", sign_in_failures.c.username, sign_in_failures.c.at)
Index("ix_sign_in_failures_client_at", sign_in_failures.c.client, sign_in_failures.c.at)


# Unanswered appeals by deadline: the now-dependent part of the on-time and overdue counts. On
# PostgreSQL it carries what the cohort's conditions and groups read: index-only (10 → 3 ms at 10 M).
UNANSWERED_WHERE = "first_response_at is null and response_measured = 1"  # measures.unanswered() says it too
Index("ix_appeals_unanswered_due", appeals.c.response_due_at,
      sqlite_where=text(UNANSWERED_WHERE), postgresql_where=text(UNANSWERED_WHERE),
      postgresql_include=["received_at", "status", "municipality_id", "topic_id", "source", "organization_id",
                          "escalated_to_id"])

# The case list's sorts: by deadline ("overdue first") and by reach, no reach last (keyset reads).
Index("ix_appeals_due_id", appeals.c.response_due_at, appeals.c.id)
Index("ix_appeals_reach_id", func.coalesce(appeals.c.reach, -1), appeals.c.id)
# Each source's appeals by reach, then newest first: the reach sort, one source at a time.
# On PostgreSQL it carries the columns the case list's filters test, so that a walk
# tests them in the index alone (an index-only scan) instead of fetching each appeal.
CASE_FILTER_COLUMNS = ("municipality_id", "topic_id", "source", "organization_id", "escalated_to_id")
Index("ix_appeals_source_reach", appeals.c.source, func.coalesce(appeals.c.reach, -1), appeals.c.received_at,
      appeals.c.id, postgresql_include=["reach", *(c for c in CASE_FILTER_COLUMNS if c != "source")])
# PostgreSQL: a territory's or a topic's appeals by date with every column the case list's
# filters and sorts read: a cohort of a few thousand cases among a territory's or a
# topic's hundreds of thousands is read from the index, not from as many table pages.
CASE_SORT_COLUMNS = ("id", "reach", "response_due_at", "first_response_at", "status")
# and what a few rows' figures read besides (kpis.RAW_ROWS: the on-time counts, the first
# response's median), so that they too are read from the index alone, as a plain GROUP BY of
# the columns above is
FEW_ROWS_COLUMNS = ("response_measured", "first_response_work_hours")


for lead in ("municipality_id", "topic_id"):
    _postgresql_only(Index(f"ix_appeals_{lead.split('_')[0]}_cases", appeals.c[lead], appeals.c.received_at,
                           postgresql_include=[c for c in (*CASE_SORT_COLUMNS, *CASE_FILTER_COLUMNS, *FEW_ROWS_COLUMNS)
                                               if c != lead]))
del lead
# The few moderation events, probed per appeal by the "removed" count.
Index("ix_appeal_events_moderation", appeal_events.c.appeal_id,
      sqlite_where=appeal_events.c.kind.in_(("comment_removed", "author_blocked")),
      postgresql_where=appeal_events.c.kind.in_(("comment_removed", "author_blocked")))

# The citizens' verdicts by time: which appeals had theirs after a moment (the like-for-like
# figures' confirmations; probing each appeal's timeline instead took 11 s for a year at 10 M).
Index("ix_appeal_events_verdict_at", appeal_events.c.at, appeal_events.c.appeal_id,
      sqlite_where=appeal_events.c.kind.in_(("citizen_confirmed", "citizen_disputed")),
      postgresql_where=appeal_events.c.kind.in_(("citizen_confirmed", "citizen_disputed")))

# A period's appeals with the times they change by: which of them changed after a moment, read
# from the index alone (the like-for-like read corrects the final figures by those appeals only:
# 2 % of a year's at 10 M appeals).
Index("ix_appeals_received_changes", appeals.c.received_at, appeals.c.first_response_at, appeals.c.closed_at,
      appeals.c.escalated_at, appeals.c.id)

# Escalated appeals by date, with every column the escalation flow reads (an index-only read).
Index("ix_appeals_escalated_received", appeals.c.received_at, appeals.c.organization_id, appeals.c.escalated_to_id,
      appeals.c.escalation_work_hours, appeals.c.municipality_id, appeals.c.topic_id, appeals.c.source,
      sqlite_where=appeals.c.escalated_at.isnot(None), postgresql_where=appeals.c.escalated_at.isnot(None))
# Closings by time, with the columns filters test: the closing flow of a trend read from the
# appeals is index only.
Index("ix_appeals_closed_flow", appeals.c.closed_at, appeals.c.municipality_id, appeals.c.topic_id, appeals.c.source,
      appeals.c.organization_id, appeals.c.escalated_to_id,
      sqlite_where=appeals.c.closed_at.isnot(None), postgresql_where=appeals.c.closed_at.isnot(None))

# Summary tables (pre-aggregations), maintained by queries.summaries. One row per cell: a node of the
# dimension lattice (`dims`, a bit mask of municipality 1, topic 2, source 4, organization 8; a
# dimension not in the node holds 0 or ''), a grain (d, m, y) and its period (the first local day).
AGG_COUNT_COLUMNS = ("received", "closed", "resolved", "open", "confirmed", "resolved_with_feedback",
                     "false_closures", "satisfied", "rated", "escalated", "removed", "on_time", "late",
                     "no_response", "no_response_open", "unmeasured")


def _cell_key(*head: Column) -> list[Column]:
    return [*head,
            Column("grain", Text, primary_key=True),
            Column("period", Date, primary_key=True),
            Column("municipality_id", Integer, primary_key=True),
            Column("topic_id", Integer, primary_key=True),
            Column("source", Text, primary_key=True),
            Column("organization_id", Integer, primary_key=True)]


agg_counts = Table(
    "agg_counts", metadata,
    *_cell_key(Column("dims", SmallInteger, primary_key=True)),
    *[Column(name, Integer, nullable=False) for name in AGG_COUNT_COLUMNS],
    sqlite_with_rowid=False,
)
# appeals closed per local day of closing (the closing flow of the trend charts)
agg_closed = Table(
    "agg_closed", metadata,
    *_cell_key(Column("dims", SmallInteger, primary_key=True)),
    Column("closed", Integer, nullable=False),
    sqlite_with_rowid=False,
)
# time histograms, one per cell, metric and urgency: metric 1 first response (working hours), 2 first
# response (calendar hours), 3 closing (calendar hours), 4 before escalation (working hours). `hist`
# holds the non-empty buckets (queries.measures.SEGMENTS) as packed records of a little-endian
# uint16 bucket number and uint32 count; `n` is their total.
agg_hist = Table(
    "agg_hist", metadata,
    *_cell_key(Column("dims", SmallInteger, primary_key=True), Column("metric", SmallInteger, primary_key=True)),
    Column("urgent", SmallInteger, primary_key=True),
    Column("n", Integer, nullable=False),
    Column("hist", LargeBinary, nullable=False),
    sqlite_with_rowid=False,
)

# The full node's cells (a query on three or four dimensions, or on two grouped by a third) by
# period and then topic, source, executor, municipality: the primary key puts the municipality
# first, and without a municipality filter PostgreSQL (no skip scan before 18) scanned a period's
# cells once per topic of an IN list (six years of counts by source for seven topic ids and an
# executor: 96 ms → 2 ms). queries.summaries builds them with the tables.
FULL_NODE_ORDER = ("topic_id", "source", "organization_id", "municipality_id")
for _table in (agg_counts, agg_closed, agg_hist):
    _head = [_table.c.metric] if _table is agg_hist else []
    _postgresql_only(Index(f"ix_{_table.name}_full", *_head, _table.c.grain, _table.c.period,
                           *[_table.c[c] for c in FULL_NODE_ORDER], postgresql_where=_table.c.dims == 15))
del _table, _head
