"""response measured: appeals whose source gave no response times are not counted as overdue

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03

Self-contained (imports nothing of the application); why: queries/schema.py, beside the column.
The unanswered-by-deadline index leaves the unmeasured appeals out, as the queries do.
"""
import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

WHERE = "first_response_at is null and response_measured = 1"
INCLUDE = ["received_at", "status", "municipality_id", "topic_id", "source", "organization_id", "escalated_to_id"]


def upgrade() -> None:
    op.add_column("appeals", sa.Column("response_measured", sa.SmallInteger(), nullable=False, server_default="1"))
    op.drop_index("ix_appeals_unanswered_due", table_name="appeals")
    op.create_index("ix_appeals_unanswered_due", "appeals", ["response_due_at"], unique=False,
                    sqlite_where=sa.text(WHERE), postgresql_where=sa.text(WHERE), postgresql_include=INCLUDE)


def downgrade() -> None:
    op.drop_index("ix_appeals_unanswered_due", table_name="appeals")
    op.create_index("ix_appeals_unanswered_due", "appeals", ["response_due_at"], unique=False,
                    sqlite_where=sa.text("first_response_at is null"),
                    postgresql_where=sa.text("first_response_at is null"), postgresql_include=INCLUDE)
    with op.batch_alter_table("appeals") as batch:
        batch.drop_column("response_measured")
