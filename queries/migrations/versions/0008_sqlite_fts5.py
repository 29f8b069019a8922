"""full-text search on SQLite: an FTS5 index over appeals.text

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30

The index, its triggers and how a search uses it: queries/fts.py (this migration creates them
from there, the one definition the bulk writers also use). Before, every SQLite search read the
texts of the whole filtered period. PostgreSQL keeps its own index (migration 0006).
"""
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        from queries import fts
        fts.create(op.get_bind())


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        from queries import fts
        fts.drop(op.get_bind())
