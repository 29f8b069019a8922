"""indexes for the case list's sorts and the moderation flag

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29

- ix_appeals_due_id: appeals by deadline, for the "overdue first" sort of the case list;
- ix_appeals_reach_id: appeals by reach (no reach last), for the "reach" sort;
- ix_appeal_events_moderation: the few timeline events of removed comments and blocked authors,
  which the "removed" count probes per appeal.
"""
from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

MODERATION = "kind IN ('comment_removed', 'author_blocked')"


def upgrade() -> None:
    op.create_index("ix_appeals_due_id", "appeals", ["response_due_at", "id"])
    op.create_index("ix_appeals_reach_id", "appeals", [sa.text("coalesce(reach, -1)"), "id"])
    op.create_index("ix_appeal_events_moderation", "appeal_events", ["appeal_id"],
                    sqlite_where=sa.text(MODERATION), postgresql_where=sa.text(MODERATION))


def downgrade() -> None:
    op.drop_index("ix_appeal_events_moderation", table_name="appeal_events")
    op.drop_index("ix_appeals_reach_id", table_name="appeals")
    op.drop_index("ix_appeals_due_id", table_name="appeals")
