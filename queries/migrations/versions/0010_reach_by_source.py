"""the reach sort walks one source at a time

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

Reach exists for social-network posts only: most appeals (the Gosuslugi platform's, the
website's) have none. Walking ix_appeals_reach_id for a cohort of such appeals passed every
appeal with a reach first (23 s at 10 M appeals for a month of Gosuslugi appeals).
ix_appeals_source_reach orders each source's appeals by reach, then newest first, so that the
case list reads, per source, the appeals with a reach by reach and those without by date, each
a bounded walk (queries.cases).
"""
from alembic import op
import sqlalchemy as sa

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_appeals_source_reach", "appeals",
                    ["source", sa.text("coalesce(reach, -1)"), "received_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_appeals_source_reach", table_name="appeals")
