"""user_sessions (sign-in that survives a reload) and sign_in_failures (throttling across sessions)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def _ts():
    return sa.DateTime(timezone=True).with_variant(
        sqlite.DATETIME(
            storage_format="%(year)04d-%(month)02d-%(day)02dT%(hour)02d:%(minute)02d:%(second)02d",
            regexp=r"(\d+)-(\d+)-(\d+)[T ](\d+):(\d+):(\d+)",
        ),
        "sqlite",
    )


def upgrade() -> None:
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True),
        sa.Column("username", sa.Text, nullable=False),
        sa.Column("ticket_hash", sa.Text, nullable=True),
        sa.Column("token_hash", sa.Text, nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("last_seen_at", _ts(), nullable=False),
        sa.Column("expires_at", _ts(), nullable=False),
        sa.Column("revoked_at", _ts(), nullable=True),
        sa.Column("client", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_user_sessions"),
        sa.UniqueConstraint("ticket_hash", name="uq_user_sessions_ticket_hash"),
        sa.UniqueConstraint("token_hash", name="uq_user_sessions_token_hash"),
    )
    op.create_index("ix_user_sessions_username", "user_sessions", ["username"])
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True),
        sa.Column("at", _ts(), nullable=False),
        sa.Column("username", sa.Text, nullable=False),
        sa.Column("client", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sign_in_failures"),
    )
    op.create_index("ix_sign_in_failures_username_at", "sign_in_failures", ["username", "at"])
    op.create_index("ix_sign_in_failures_client_at", "sign_in_failures", ["client", "at"])


def downgrade() -> None:
    op.drop_table("sign_in_failures")
    op.drop_table("user_sessions")
