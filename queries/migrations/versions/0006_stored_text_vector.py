"""full-text search on a stored tsvector (PostgreSQL)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29

`appeals.text_tsv` = to_tsvector('russian', text), generated and stored by PostgreSQL, with the
GIN index on it. A search no longer computes to_tsvector for each row it checks: a frequent word
is found by walking the newest appeals, a rare one through the index, and the planner can tell
which is which from the column's statistics. SQLite has no such column (see dialect.text_match).
"""
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("drop index if exists ix_appeals_text_fts")
        op.execute("alter table appeals add column text_tsv tsvector"
                   " generated always as (to_tsvector('russian', text)) stored")
        op.execute("create index ix_appeals_text_fts on appeals using gin (text_tsv)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("drop index if exists ix_appeals_text_fts")
        op.execute("alter table appeals drop column text_tsv")
        op.execute("create index ix_appeals_text_fts on appeals using gin (to_tsvector('russian', text))")
