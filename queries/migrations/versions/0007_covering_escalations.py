"""the escalation flow reads an index only

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29

ix_appeals_escalated_received (escalated appeals by date) now carries every column the
escalation flow groups, filters and measures, so that PostgreSQL and SQLite answer it from the
index without visiting the appeals (100 k escalations at 10 M appeals took half a second).
"""
from alembic import op
import sqlalchemy as sa

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ESCALATED = "escalated_at IS NOT NULL"
COLUMNS = ["received_at", "organization_id", "escalated_to_id", "escalation_work_hours", "municipality_id",
           "topic_id", "source"]


def upgrade() -> None:
    op.drop_index("ix_appeals_escalated_received", table_name="appeals")
    op.create_index("ix_appeals_escalated_received", "appeals", COLUMNS,
                    sqlite_where=sa.text(ESCALATED), postgresql_where=sa.text(ESCALATED))


def downgrade() -> None:
    op.drop_index("ix_appeals_escalated_received", table_name="appeals")
    op.create_index("ix_appeals_escalated_received", "appeals", ["received_at"],
                    sqlite_where=sa.text(ESCALATED), postgresql_where=sa.text(ESCALATED))
