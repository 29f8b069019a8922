"""year cells in the summary tables

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01

The planner now reads whole calendar years from year cells (grain 'y', summed from the month
cells): counts for every stored node, histograms for the nodes of at most two dimensions
(queries/summary.py: _fill_years sums them from stored months, as the refresh does). Summaries
built before this migration get their year cells here, from their month cells; a database whose
summaries are not built has nothing to add.
"""
from alembic import op
import sqlalchemy as sa

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from queries import summaries
    from queries.dialect import dialect_of
    from queries.summaries.build import fill_years
    conn = op.get_bind()
    if not summaries.is_ready(conn):
        return
    d = dialect_of(conn)
    years = sorted({int(str(p)[:4]) for (p,) in conn.execute(sa.text(
        "select distinct period from agg_counts where grain = 'm'"))})
    fill_years(conn, d, years)


def downgrade() -> None:
    op.execute("delete from agg_counts where grain = 'y'")
    op.execute("delete from agg_hist where grain = 'y'")
