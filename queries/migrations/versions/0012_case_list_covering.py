"""the case list's reads from indexes alone (PostgreSQL)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01

A case list cohort of a few thousand cases defined by two filters (healthcare appeals from
Odnoklassniki over five years) was read through one filter's index, fetching and discarding
that filter's hundreds of thousands of appeals from the table: 0.7 to 6 s at 10 M appeals,
by how much of it was cached. These indexes carry every column the list's filters and sorts
read, so those reads are index-only scans (45 ms for that cohort):

- ix_appeals_municipality_cases, ix_appeals_topic_cases: a territory's or a topic's appeals by date;
- ix_appeals_source_reach (0010) again, now with the filter columns and reach included.

SQLite keeps its indexes: its case list reads differently (queries/cases.py) and meets its target.
"""
from alembic import op
import sqlalchemy as sa

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

FILTERS = ["municipality_id", "topic_id", "source", "organization_id", "escalated_to_id"]
SORTS = ["id", "reach", "response_due_at", "first_response_at", "status"]
REACH_KEY = ["source", sa.text("coalesce(reach, -1)"), "received_at", "id"]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_appeals_source_reach", table_name="appeals")
    op.create_index("ix_appeals_source_reach", "appeals", REACH_KEY,
                    postgresql_include=["reach", *(c for c in FILTERS if c != "source")])
    for lead in ("municipality_id", "topic_id"):
        op.create_index(f"ix_appeals_{lead.split('_')[0]}_cases", "appeals", [lead, "received_at"],
                        postgresql_include=[c for c in SORTS + FILTERS if c != lead])


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for lead in ("municipality_id", "topic_id"):
        op.drop_index(f"ix_appeals_{lead.split('_')[0]}_cases", table_name="appeals")
    op.drop_index("ix_appeals_source_reach", table_name="appeals")
    op.create_index("ix_appeals_source_reach", "appeals", REACH_KEY)
