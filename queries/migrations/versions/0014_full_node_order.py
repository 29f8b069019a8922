"""the full node's summary cells by topic, source and executor before municipality (PostgreSQL)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01

A query on three or four dimensions (or on two, grouped by a third) reads the full node's
cells. Their primary key runs period, municipality, topic, …; without a municipality filter,
PostgreSQL before 18 (no skip scan) scanned each period's cells once per value of a topic or
executor IN list. These partial indexes put the filterable dimensions first (six years of counts by
source for a category and a topic, seven topic ids, and one executor: 96 ms → 2 ms at 10 M
appeals; about 6 s to build there).
SQLite, which reads the same cells fast enough, keeps its primary keys alone.
"""
from alembic import op
import sqlalchemy as sa

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

ORDER = ["grain", "period", "topic_id", "source", "organization_id", "municipality_id"]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in ("agg_counts", "agg_closed", "agg_hist"):
        head = ["metric"] if table == "agg_hist" else []
        op.create_index(f"ix_{table}_full", table, head + ORDER, postgresql_where=sa.text("dims = 15"))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in ("agg_counts", "agg_closed", "agg_hist"):
        op.drop_index(f"ix_{table}_full", table_name=table)
