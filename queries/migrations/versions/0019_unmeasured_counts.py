"""unmeasured counts: the summary cells count the appeals response figures leave out

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03

Self-contained (imports nothing of the application); why: queries/schema.py, AGG_COUNT_COLUMNS.
Zero is every existing cell's count unless appeals without measured responses were loaded since
0018: then the summaries are marked stale (queries read the appeals until
python -m queries.summaries build recounts them).
"""
import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("agg_counts", sa.Column("unmeasured", sa.Integer(), nullable=False, server_default="0"))
    bind = op.get_bind()
    if bind.execute(sa.text("select 1 from appeals where response_measured = 0 limit 1")).first() is not None:
        bind.execute(sa.text("update dataset_info set value = 'stale' where key = 'summaries'"))


def downgrade() -> None:
    with op.batch_alter_table("agg_counts") as batch:
        batch.drop_column("unmeasured")
