"""Alembic migrations: empty → head → base on both databases, and head matches the metadata."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from queries import fts
from queries import summaries
from queries.db import make_engine
from queries.migrate import MigrationError, current_revision, downgrade, head_revision, upgrade
from queries.schema import metadata

TABLES = {"municipalities", "topics", "organizations", "appeals", "appeal_events", "dataset_info", "users", "audit_log"}


def test_upgrade_to_head_and_down_again(fresh_url):
    engine = make_engine(fresh_url)
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert TABLES <= set(inspect(engine).get_table_names())
    downgrade(engine, "base")
    assert current_revision(engine) is None
    assert not TABLES & set(inspect(engine).get_table_names())
    upgrade(engine)  # and up again from base
    assert TABLES <= set(inspect(engine).get_table_names())
    engine.dispose()


@pytest.mark.parametrize("rebuilt", [False, True], ids=["migrated", "summaries-rebuilt"])
def test_migrated_schema_matches_the_metadata(fresh_url, rebuilt):
    """Also after a full summary build, which on PostgreSQL swaps in freshly built tables."""
    engine = make_engine(fresh_url)
    upgrade(engine)
    if rebuilt:
        with engine.begin() as conn:
            summaries.build(conn)
    with engine.connect() as conn:
        # autogenerate cannot compare expression indexes (the full-text one); it is checked by name
        # below, with the PostgreSQL-only stored vector it indexes
        # SQLite's FTS5 table and its shadow tables are outside the metadata too (queries/fts.py)
        # the other PostgreSQL-only indexes are compared on PostgreSQL, and absent on SQLite
        from queries.schema import POSTGRESQL_ONLY_INDEXES
        pg_only = () if conn.dialect.name == "postgresql" else POSTGRESQL_ONLY_INDEXES
        skip_fts = lambda name, type_, parent: (name not in ("ix_appeals_text_fts", "text_tsv", *pg_only)  # noqa: E731
                                                and not (name or "").startswith(fts.TABLE))
        not_here = lambda obj, name, type_, reflected, compare_to: name not in pg_only  # noqa: E731
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False, "include_name": skip_fts,
                                                                        "include_object": not_here}), metadata)
        for table in metadata.sorted_tables:  # autogenerate does not compare primary keys
            pk = inspect(conn).get_pk_constraint(table.name)
            assert pk["constrained_columns"] == [c.name for c in table.primary_key.columns], table.name
            if conn.dialect.name == "postgresql":
                assert pk["name"] == table.primary_key.name, table.name
        if conn.dialect.name == "postgresql":
            present = {i["name"] for table in ("appeals", "agg_counts", "agg_closed", "agg_hist")
                       for i in inspect(conn).get_indexes(table)}
            assert set(POSTGRESQL_ONLY_INDEXES) <= present
            assert "text_tsv" in {c["name"] for c in inspect(conn).get_columns("appeals")}
    assert diffs == []
    engine.dispose()


def test_full_summary_build_keeps_the_readers_grants(pg_url):
    """A full build on PostgreSQL swaps in new tables: the app's read-only role can still read them."""
    import uuid

    from sqlalchemy import text
    engine, role = make_engine(pg_url), f"pulse_reader_{uuid.uuid4().hex[:8]}"
    upgrade(engine)
    try:
        with engine.begin() as conn:
            conn.execute(text(f'create role "{role}"'))
            for table in ("agg_counts", "agg_closed", "agg_hist"):
                conn.execute(text(f'grant select on {table} to "{role}"'))
        with engine.begin() as conn:
            summaries.build(conn)
        with engine.connect() as conn:
            for table in ("agg_counts", "agg_closed", "agg_hist"):
                assert conn.execute(text(f"select has_table_privilege('{role}', '{table}', 'select')")).scalar()
                assert not conn.execute(text(f"select has_table_privilege('{role}', '{table}', 'insert')")).scalar()
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'drop owned by "{role}"'))
            conn.execute(text(f'drop role "{role}"'))
        engine.dispose()

def test_data_model_columns_exist(fresh_url):
    """Every table and column named in data-model.md is there, under its contract name."""
    contract = {
        "municipalities": "id code name_ru name_en kind parent_id population population_year lat lon",
        "topics": "id code name_ru name_en parent_id response_norm_hours is_urgent",
        "organizations": "id name_ru kind parent_id municipality_id",
        "appeals": "id external_id source source_url author_ref text received_at municipality_id topic_id "
                   "organization_id status response_due_at first_response_at closed_at escalated_at "
                   "escalated_to_id citizen_feedback citizen_rating reopened_count reach",
        "appeal_events": "id appeal_id at kind organization_id note",
    }
    engine = make_engine(fresh_url)
    upgrade(engine)
    insp = inspect(engine)
    for table, cols in contract.items():
        have = {c["name"] for c in insp.get_columns(table)}
        assert set(cols.split()) <= have, table
    engine.dispose()


def test_a_database_of_the_squashed_migrations_is_stamped_not_rebuilt(fresh_url):
    """A database at 0015 (the last migration the baseline replaced) has the baseline's schema:
    upgrade records the baseline and runs nothing; one at an earlier revision is refused, unchanged."""
    from sqlalchemy import text
    engine = make_engine(fresh_url)
    upgrade(engine, "baseline")  # the schema a database at 0015 has
    with engine.begin() as conn:
        conn.execute(text("insert into dataset_info (key, value) values ('marker', 'kept')"))
        conn.execute(text("update alembic_version set version_num = '0015'"))
    upgrade(engine)  # stamped baseline, then the migrations after it
    assert current_revision(engine) == head_revision() != "baseline"
    with engine.connect() as conn:
        assert conn.execute(text("select value from dataset_info where key = 'marker'")).scalar() == "kept"
    with engine.begin() as conn:
        conn.execute(text("update alembic_version set version_num = '0007'"))
    with pytest.raises(MigrationError, match="0007"):
        upgrade(engine)
    assert current_revision(engine) == "0007"
    engine.dispose()
