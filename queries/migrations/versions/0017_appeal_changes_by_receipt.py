"""appeal changes by receipt: a period's appeals with the times at which they change

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03

Self-contained (imports nothing of the application); why: queries/schema.py, beside the index.
"""
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_appeals_received_changes", "appeals",
                    ["received_at", "first_response_at", "closed_at", "escalated_at", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_appeals_received_changes", table_name="appeals")
