"""a few rows' figures from the cases indexes: response_measured and the first response's hours

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03

Self-contained (imports nothing of the application); why: queries/schema.py, beside the index.
PostgreSQL only (SQLite has no covering columns); each index is built under a new name first,
so that the old one answers until the new one replaces it.
"""
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

SORT = ("id", "reach", "response_due_at", "first_response_at", "status")
FILTER = ("municipality_id", "topic_id", "source", "organization_id", "escalated_to_id")
FEW = ("response_measured", "first_response_work_hours")


def _rebuild(extra: tuple[str, ...]) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for lead in ("municipality_id", "topic_id"):
        name = f"ix_appeals_{lead.split('_')[0]}_cases"
        include = ", ".join(c for c in (*SORT, *FILTER, *extra) if c != lead)
        op.execute(f"create index {name}_new on appeals ({lead}, received_at) include ({include})")
        op.execute(f"drop index if exists {name}")
        op.execute(f"alter index {name}_new rename to {name}")


def upgrade() -> None:
    _rebuild(FEW)


def downgrade() -> None:
    _rebuild(())
