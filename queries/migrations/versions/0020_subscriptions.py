"""subscriptions: standing orders of the briefing and the press release, and their deliveries

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03

Self-contained (imports nothing of the application); why: queries/schema.py, beside the tables.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import sqlite

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def _ts():
    return sa.DateTime(timezone=True).with_variant(sqlite.DATETIME(), "sqlite")  # UTC moments


def upgrade() -> None:
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("every", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("territory_code", sa.Text(), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.CheckConstraint("kind in ('briefing', 'press')", name=op.f("ck_subscriptions_kind")),
        sa.CheckConstraint("every in ('week', 'month')", name=op.f("ck_subscriptions_every")),
    )
    op.create_table(
        "deliveries",
        sa.Column("subscription_id", sa.Integer(), sa.ForeignKey("subscriptions.id"), primary_key=True),
        sa.Column("period_start", sa.Date(), primary_key=True),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("claimed_at", _ts(), nullable=False),
        sa.Column("sent_at", _ts(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("deliveries")
    op.drop_table("subscriptions")
