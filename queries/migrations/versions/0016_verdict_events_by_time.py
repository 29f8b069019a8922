"""verdict events by time: the citizens' verdicts given after a moment, for the like-for-like figures

Revision ID: 0016
Revises: baseline
Create Date: 2026-12-03

Numbered after the squashed 0001-0015 (queries.migrate refuses those numbers as too old).
Self-contained (imports nothing of the application); why: queries/schema.py, beside the index.
"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "baseline"
branch_labels = None
depends_on = None

VERDICTS = sa.text("kind IN ('citizen_confirmed', 'citizen_disputed')")


def upgrade() -> None:
    op.create_index("ix_appeal_events_verdict_at", "appeal_events", ["at", "appeal_id"], unique=False,
                    sqlite_where=VERDICTS, postgresql_where=VERDICTS)


def downgrade() -> None:
    op.drop_index("ix_appeal_events_verdict_at", table_name="appeal_events")
