"""full-text search on appeals.text with Russian morphology (PostgreSQL GIN index)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("create index ix_appeals_text_fts on appeals using gin (to_tsvector('russian', text))")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("drop index if exists ix_appeals_text_fts")
