"""summary tables (agg_counts, agg_closed, agg_hist) and partial indexes on unanswered and escalated appeals

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29

The tables start empty; `python -m queries.summary refresh` (or a seed or an import) fills them.
Until they are filled, queries read the appeals table directly.
"""
from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COUNTS = ("received", "closed", "resolved", "open", "confirmed", "resolved_with_feedback", "false_closures",
          "satisfied", "rated", "escalated", "removed", "on_time", "late", "no_response", "no_response_open")
KEY = ("grain", "period", "municipality_id", "topic_id", "source", "organization_id")


def _key(*head):
    return [*head,
            sa.Column("grain", sa.Text, nullable=False),
            sa.Column("period", sa.Date, nullable=False),
            sa.Column("municipality_id", sa.Integer, nullable=False),
            sa.Column("topic_id", sa.Integer, nullable=False),
            sa.Column("source", sa.Text, nullable=False),
            sa.Column("organization_id", sa.Integer, nullable=False)]


def upgrade() -> None:
    op.create_table("agg_counts", *_key(sa.Column("dims", sa.SmallInteger, nullable=False)),
                    *[sa.Column(c, sa.Integer, nullable=False) for c in COUNTS],
                    sa.PrimaryKeyConstraint("dims", *KEY, name="pk_agg_counts"), sqlite_with_rowid=False)
    op.create_table("agg_closed", *_key(sa.Column("dims", sa.SmallInteger, nullable=False)),
                    sa.Column("closed", sa.Integer, nullable=False),
                    sa.PrimaryKeyConstraint("dims", *KEY, name="pk_agg_closed"), sqlite_with_rowid=False)
    op.create_table("agg_hist", *_key(sa.Column("dims", sa.SmallInteger, nullable=False),
                                      sa.Column("metric", sa.SmallInteger, nullable=False)),
                    sa.Column("urgent", sa.SmallInteger, nullable=False),
                    sa.Column("n", sa.Integer, nullable=False),
                    sa.Column("hist", sa.LargeBinary, nullable=False),
                    sa.PrimaryKeyConstraint("dims", "metric", *KEY, "urgent", name="pk_agg_hist"),
                    sqlite_with_rowid=False)
    op.create_index("ix_appeals_closed_at", "appeals", ["closed_at"])
    op.create_index("ix_appeals_unanswered_due", "appeals", ["response_due_at"],
                    sqlite_where=sa.text("first_response_at IS NULL"),
                    postgresql_where=sa.text("first_response_at IS NULL"))
    op.create_index("ix_appeals_escalated_received", "appeals", ["received_at"],
                    sqlite_where=sa.text("escalated_at IS NOT NULL"),
                    postgresql_where=sa.text("escalated_at IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_appeals_escalated_received", table_name="appeals")
    op.drop_index("ix_appeals_unanswered_due", table_name="appeals")
    op.drop_index("ix_appeals_closed_at", table_name="appeals")
    for table in ("agg_hist", "agg_closed", "agg_counts"):
        op.drop_table(table)
