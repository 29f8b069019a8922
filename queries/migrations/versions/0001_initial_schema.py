"""initial schema: reference tables, appeals, appeal_events, dataset_info

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

OPEN = "'new', 'assigned', 'in_progress'"


def _ts():
    return sa.DateTime(timezone=True).with_variant(
        sqlite.DATETIME(
            storage_format="%(year)04d-%(month)02d-%(day)02dT%(hour)02d:%(minute)02d:%(second)02d",
            regexp=r"(\d+)-(\d+)-(\d+)[T ](\d+):(\d+):(\d+)",
        ),
        "sqlite",
    )


def _bigid():
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "municipalities",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("name_ru", sa.Text, nullable=False),
        sa.Column("name_en", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("municipalities.id", name="fk_municipalities_parent_id_municipalities"), nullable=True),
        sa.Column("population", sa.Integer, nullable=False),
        sa.Column("population_year", sa.Integer, nullable=True),
        sa.Column("lat", sa.Float, nullable=True),
        sa.Column("lon", sa.Float, nullable=True),
        sa.Column("oktmo", sa.Text, nullable=True),
        sa.Column("center_ru", sa.Text, nullable=True),
        sa.CheckConstraint("kind in ('urban_okrug', 'municipal_district', 'municipal_okrug', 'city_district')", name="ck_municipalities_kind"),
        sa.PrimaryKeyConstraint("id", name="pk_municipalities"),
        sa.UniqueConstraint("code", name="uq_municipalities_code"),
    )
    op.create_table(
        "topics",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("name_ru", sa.Text, nullable=False),
        sa.Column("name_en", sa.Text, nullable=False),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("topics.id", name="fk_topics_parent_id_topics"), nullable=True),
        sa.Column("response_norm_hours", sa.Float, nullable=False),
        sa.Column("is_urgent", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_topics"),
        sa.UniqueConstraint("code", name="uq_topics_code"),
    )
    op.create_table(
        "organizations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name_ru", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("organizations.id", name="fk_organizations_parent_id_organizations"), nullable=True),
        sa.Column("municipality_id", sa.Integer, sa.ForeignKey("municipalities.id", name="fk_organizations_municipality_id_municipalities"), nullable=True),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("name_en", sa.Text, nullable=True),
        sa.Column("short_name_ru", sa.Text, nullable=True),
        sa.CheckConstraint("kind in ('ministry', 'regional_agency', 'municipal_admin', 'clinic', 'utility', 'other')", name="ck_organizations_kind"),
        sa.PrimaryKeyConstraint("id", name="pk_organizations"),
        sa.UniqueConstraint("code", name="uq_organizations_code"),
    )
    op.create_table(
        "appeals",
        sa.Column("id", _bigid(), autoincrement=True),
        sa.Column("external_id", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("source_url", sa.Text, nullable=True),
        sa.Column("author_ref", sa.Text, nullable=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("received_at", _ts(), nullable=False),
        sa.Column("municipality_id", sa.Integer, sa.ForeignKey("municipalities.id", name="fk_appeals_municipality_id_municipalities"), nullable=False),
        sa.Column("topic_id", sa.Integer, sa.ForeignKey("topics.id", name="fk_appeals_topic_id_topics"), nullable=False),
        sa.Column("organization_id", sa.Integer, sa.ForeignKey("organizations.id", name="fk_appeals_organization_id_organizations"), nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("response_due_at", _ts(), nullable=False),
        sa.Column("first_response_at", _ts(), nullable=True),
        sa.Column("closed_at", _ts(), nullable=True),
        sa.Column("escalated_at", _ts(), nullable=True),
        sa.Column("escalated_to_id", sa.Integer, sa.ForeignKey("organizations.id", name="fk_appeals_escalated_to_id_organizations"), nullable=True),
        sa.Column("citizen_feedback", sa.Text, nullable=True),
        sa.Column("citizen_rating", sa.SmallInteger, nullable=True),
        sa.Column("reopened_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("reach", sa.Integer, nullable=True),
        sa.Column("first_response_work_hours", sa.Float, nullable=True),
        sa.Column("escalation_work_hours", sa.Float, nullable=True),
        sa.CheckConstraint("source in ('vk', 'ok', 'telegram', 'instagram', 'facebook', 'pos', 'website', 'other')", name="ck_appeals_source"),
        sa.CheckConstraint(f"status in ({OPEN}, 'resolved', 'explained', 'declined')", name="ck_appeals_status"),
        sa.CheckConstraint("citizen_feedback is null or citizen_feedback in ('confirmed', 'disputed')", name="ck_appeals_feedback"),
        sa.CheckConstraint("citizen_rating is null or citizen_rating between 1 and 5", name="ck_appeals_rating"),
        sa.CheckConstraint(f"(closed_at is null) = (status in ({OPEN}))", name="ck_appeals_closed_status"),
        sa.CheckConstraint("first_response_at is null or first_response_at >= received_at", name="ck_appeals_response_order"),
        sa.CheckConstraint("closed_at is null or closed_at >= received_at", name="ck_appeals_closed_order"),
        sa.CheckConstraint("escalated_at is null or escalated_at >= received_at", name="ck_appeals_escalated_order"),
        sa.PrimaryKeyConstraint("id", name="pk_appeals"),
        sa.UniqueConstraint("external_id", name="uq_appeals_external_id"),
    )
    op.create_index("ix_appeals_received_at", "appeals", ["received_at"])
    op.create_index("ix_appeals_municipality_received", "appeals", ["municipality_id", "received_at"])
    op.create_index("ix_appeals_topic_received", "appeals", ["topic_id", "received_at"])
    op.create_index("ix_appeals_organization_received", "appeals", ["organization_id", "received_at"])
    op.create_index("ix_appeals_source_received", "appeals", ["source", "received_at"])
    op.create_index("ix_appeals_escalated_to", "appeals", ["escalated_to_id"])
    op.create_index("ix_appeals_open_due", "appeals", ["status", "response_due_at"])
    op.create_table(
        "appeal_events",
        sa.Column("id", _bigid(), autoincrement=True),
        sa.Column("appeal_id", _bigid(), sa.ForeignKey("appeals.id", name="fk_appeal_events_appeal_id_appeals", ondelete="CASCADE"), nullable=False),
        sa.Column("at", _ts(), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("organization_id", sa.Integer, sa.ForeignKey("organizations.id", name="fk_appeal_events_organization_id_organizations"), nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.CheckConstraint(
            "kind in ('received', 'assigned', 'reassigned', 'response', 'interim_response', 'escalated', 'closed', "
            "'citizen_confirmed', 'citizen_disputed', 'reopened', 'comment_removed', 'author_blocked')",
            name="ck_appeal_events_kind",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_appeal_events"),
    )
    op.create_index("ix_appeal_events_appeal_at", "appeal_events", ["appeal_id", "at"])
    op.create_index("ix_appeal_events_kind", "appeal_events", ["kind"])
    op.create_table(
        "dataset_info",
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_dataset_info"),
    )


def downgrade() -> None:
    op.drop_table("dataset_info")
    op.drop_index("ix_appeal_events_kind", table_name="appeal_events")
    op.drop_index("ix_appeal_events_appeal_at", table_name="appeal_events")
    op.drop_table("appeal_events")
    for name in ("ix_appeals_open_due", "ix_appeals_escalated_to", "ix_appeals_source_received",
                 "ix_appeals_organization_received", "ix_appeals_topic_received",
                 "ix_appeals_municipality_received", "ix_appeals_received_at"):
        op.drop_index(name, table_name="appeals")
    op.drop_table("appeals")
    op.drop_table("organizations")
    op.drop_table("topics")
    op.drop_table("municipalities")
