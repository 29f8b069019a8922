"""baseline: the whole schema of docs/data-model.md and its extensions, as of 2026-12-02

Revision ID: baseline
Revises: (none)
Create Date: 2026-12-02

Replaces migrations 0001-0015, squashed before any database outside this repository's tests and
benchmarks existed. A database made by them (at revision 0015) has exactly this schema:
queries.migrate stamps it "baseline" and leaves it as it is (docs/migrations.md).

Self-contained on purpose: it imports nothing of the application, so that it creates this schema
whatever the application's code becomes. Why each index exists: the comment beside it in
queries/schema.py.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import sqlite

revision = "baseline"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True).with_variant(sqlite.DATETIME(), "sqlite")  # UTC moments
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite's rowid alias needs INTEGER

# SQLite's full-text index over appeals.text (PostgreSQL: the stored vector below), with ё written
# as е, kept in step by triggers; queries/fts.py holds the application's copy of these statements.
FTS_TABLE = "create virtual table appeals_fts using fts5(text, content='', columnsize=0, tokenize='unicode61')"
FTS_TRIGGERS = [
    """create trigger appeals_fts_insert after insert on appeals begin
        insert into appeals_fts (rowid, text) values (new.id, replace(replace(new.text, 'ё', 'е'), 'Ё', 'Е')); end""",
    """create trigger appeals_fts_delete after delete on appeals begin
        insert into appeals_fts (appeals_fts, rowid, text) values ('delete', old.id, replace(replace(old.text, 'ё', 'е'), 'Ё', 'Е')); end""",
    """create trigger appeals_fts_update after update of text on appeals begin
        insert into appeals_fts (appeals_fts, rowid, text) values ('delete', old.id, replace(replace(old.text, 'ё', 'е'), 'Ё', 'Е'));
        insert into appeals_fts (rowid, text) values (new.id, replace(replace(new.text, 'ё', 'е'), 'Ё', 'Е')); end""",
]


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    op.create_table('agg_closed',
    sa.Column('dims', sa.SmallInteger(), nullable=False),
    sa.Column('grain', sa.Text(), nullable=False),
    sa.Column('period', sa.Date(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('closed', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('dims', 'grain', 'period', 'municipality_id', 'topic_id', 'source', 'organization_id', name=op.f('pk_agg_closed')),
    sqlite_with_rowid=False
    )
    if pg:
        op.create_index('ix_agg_closed_full', 'agg_closed', ['grain', 'period', 'topic_id', 'source', 'organization_id', 'municipality_id'], unique=False, postgresql_where=sa.text('dims = 15'))
    op.create_table('agg_counts',
    sa.Column('dims', sa.SmallInteger(), nullable=False),
    sa.Column('grain', sa.Text(), nullable=False),
    sa.Column('period', sa.Date(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('received', sa.Integer(), nullable=False),
    sa.Column('closed', sa.Integer(), nullable=False),
    sa.Column('resolved', sa.Integer(), nullable=False),
    sa.Column('open', sa.Integer(), nullable=False),
    sa.Column('confirmed', sa.Integer(), nullable=False),
    sa.Column('resolved_with_feedback', sa.Integer(), nullable=False),
    sa.Column('false_closures', sa.Integer(), nullable=False),
    sa.Column('satisfied', sa.Integer(), nullable=False),
    sa.Column('rated', sa.Integer(), nullable=False),
    sa.Column('escalated', sa.Integer(), nullable=False),
    sa.Column('removed', sa.Integer(), nullable=False),
    sa.Column('on_time', sa.Integer(), nullable=False),
    sa.Column('late', sa.Integer(), nullable=False),
    sa.Column('no_response', sa.Integer(), nullable=False),
    sa.Column('no_response_open', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('dims', 'grain', 'period', 'municipality_id', 'topic_id', 'source', 'organization_id', name=op.f('pk_agg_counts')),
    sqlite_with_rowid=False
    )
    if pg:
        op.create_index('ix_agg_counts_full', 'agg_counts', ['grain', 'period', 'topic_id', 'source', 'organization_id', 'municipality_id'], unique=False, postgresql_where=sa.text('dims = 15'))
    op.create_table('agg_hist',
    sa.Column('dims', sa.SmallInteger(), nullable=False),
    sa.Column('metric', sa.SmallInteger(), nullable=False),
    sa.Column('grain', sa.Text(), nullable=False),
    sa.Column('period', sa.Date(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('urgent', sa.SmallInteger(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('hist', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('dims', 'metric', 'grain', 'period', 'municipality_id', 'topic_id', 'source', 'organization_id', 'urgent', name=op.f('pk_agg_hist')),
    sqlite_with_rowid=False
    )
    if pg:
        op.create_index('ix_agg_hist_full', 'agg_hist', ['metric', 'grain', 'period', 'topic_id', 'source', 'organization_id', 'municipality_id'], unique=False, postgresql_where=sa.text('dims = 15'))
    op.create_table('audit_log',
    sa.Column('id', BIGID, autoincrement=True, nullable=False),
    sa.Column('at', TS, nullable=False),
    sa.Column('username', sa.Text(), nullable=False),
    sa.Column('role', sa.Text(), nullable=False),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('target', sa.Text(), nullable=True),
    sa.Column('details', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_index('ix_audit_log_at', 'audit_log', ['at'], unique=False)
    op.create_table('dataset_info',
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_dataset_info'))
    )
    op.create_table('municipalities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('name_ru', sa.Text(), nullable=False),
    sa.Column('name_en', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('population', sa.Integer(), nullable=False),
    sa.Column('population_year', sa.Integer(), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('oktmo', sa.Text(), nullable=True),
    sa.Column('center_ru', sa.Text(), nullable=True),
    sa.CheckConstraint("kind in ('urban_okrug', 'municipal_district', 'municipal_okrug', 'city_district')", name=op.f('ck_municipalities_kind')),
    sa.ForeignKeyConstraint(['parent_id'], ['municipalities.id'], name=op.f('fk_municipalities_parent_id_municipalities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_municipalities')),
    sa.UniqueConstraint('code', name=op.f('uq_municipalities_code'))
    )
    op.create_table('sign_in_failures',
    sa.Column('id', BIGID, autoincrement=True, nullable=False),
    sa.Column('at', TS, nullable=False),
    sa.Column('username', sa.Text(), nullable=False),
    sa.Column('client', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_failures'))
    )
    op.create_index('ix_sign_in_failures_client_at', 'sign_in_failures', ['client', 'at'], unique=False)
    op.create_index('ix_sign_in_failures_username_at', 'sign_in_failures', ['username', 'at'], unique=False)
    op.create_table('topics',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('name_ru', sa.Text(), nullable=False),
    sa.Column('name_en', sa.Text(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('response_norm_hours', sa.Float(), nullable=False),
    sa.Column('is_urgent', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['topics.id'], name=op.f('fk_topics_parent_id_topics')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_topics')),
    sa.UniqueConstraint('code', name=op.f('uq_topics_code'))
    )
    op.create_table('user_sessions',
    sa.Column('id', BIGID, autoincrement=True, nullable=False),
    sa.Column('username', sa.Text(), nullable=False),
    sa.Column('ticket_hash', sa.Text(), nullable=True),
    sa.Column('token_hash', sa.Text(), nullable=True),
    sa.Column('created_at', TS, nullable=False),
    sa.Column('last_seen_at', TS, nullable=False),
    sa.Column('expires_at', TS, nullable=False),
    sa.Column('revoked_at', TS, nullable=True),
    sa.Column('client', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions')),
    sa.UniqueConstraint('ticket_hash', name=op.f('uq_user_sessions_ticket_hash')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_user_sessions_token_hash'))
    )
    op.create_index('ix_user_sessions_username', 'user_sessions', ['username'], unique=False)
    op.create_table('users',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('username', sa.Text(), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('role', sa.Text(), nullable=False),
    sa.Column('territory_code', sa.Text(), nullable=True),
    sa.Column('executor_code', sa.Text(), nullable=True),
    sa.Column('display_name', sa.Text(), nullable=True),
    sa.Column('disabled', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('created_at', TS, nullable=False),
    sa.CheckConstraint("role in ('analyst', 'press', 'head', 'executor')", name=op.f('ck_users_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('organizations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name_ru', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('municipality_id', sa.Integer(), nullable=True),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('name_en', sa.Text(), nullable=True),
    sa.Column('short_name_ru', sa.Text(), nullable=True),
    sa.CheckConstraint("kind in ('ministry', 'regional_agency', 'municipal_admin', 'clinic', 'utility', 'other')", name=op.f('ck_organizations_kind')),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipalities.id'], name=op.f('fk_organizations_municipality_id_municipalities')),
    sa.ForeignKeyConstraint(['parent_id'], ['organizations.id'], name=op.f('fk_organizations_parent_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organizations')),
    sa.UniqueConstraint('code', name=op.f('uq_organizations_code'))
    )
    op.create_table('appeals',
    sa.Column('id', BIGID, autoincrement=True, nullable=False),
    sa.Column('external_id', sa.Text(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('source_url', sa.Text(), nullable=True),
    sa.Column('author_ref', sa.Text(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('received_at', TS, nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('response_due_at', TS, nullable=False),
    sa.Column('first_response_at', TS, nullable=True),
    sa.Column('closed_at', TS, nullable=True),
    sa.Column('escalated_at', TS, nullable=True),
    sa.Column('escalated_to_id', sa.Integer(), nullable=True),
    sa.Column('citizen_feedback', sa.Text(), nullable=True),
    sa.Column('citizen_rating', sa.SmallInteger(), nullable=True),
    sa.Column('reopened_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('reach', sa.Integer(), nullable=True),
    sa.Column('first_response_work_hours', sa.Float(), nullable=True),
    sa.Column('escalation_work_hours', sa.Float(), nullable=True),
    sa.CheckConstraint("(closed_at is null) = (status in ('new', 'assigned', 'in_progress'))", name=op.f('ck_appeals_closed_status')),
    sa.CheckConstraint("citizen_feedback is null or citizen_feedback in ('confirmed', 'disputed')", name=op.f('ck_appeals_feedback')),
    sa.CheckConstraint("source in ('vk', 'ok', 'telegram', 'instagram', 'facebook', 'pos', 'website', 'other')", name=op.f('ck_appeals_source')),
    sa.CheckConstraint("status in ('new', 'assigned', 'in_progress', 'resolved', 'explained', 'declined')", name=op.f('ck_appeals_status')),
    sa.CheckConstraint('citizen_rating is null or citizen_rating between 1 and 5', name=op.f('ck_appeals_rating')),
    sa.CheckConstraint('closed_at is null or closed_at >= received_at', name=op.f('ck_appeals_closed_order')),
    sa.CheckConstraint('escalated_at is null or escalated_at >= received_at', name=op.f('ck_appeals_escalated_order')),
    sa.CheckConstraint('first_response_at is null or first_response_at >= received_at', name=op.f('ck_appeals_response_order')),
    sa.ForeignKeyConstraint(['escalated_to_id'], ['organizations.id'], name=op.f('fk_appeals_escalated_to_id_organizations')),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipalities.id'], name=op.f('fk_appeals_municipality_id_municipalities')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_appeals_organization_id_organizations')),
    sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], name=op.f('fk_appeals_topic_id_topics')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeals')),
    sa.UniqueConstraint('external_id', name=op.f('uq_appeals_external_id'))
    )
    op.create_index('ix_appeals_closed_at', 'appeals', ['closed_at'], unique=False)
    op.create_index('ix_appeals_closed_flow', 'appeals', ['closed_at', 'municipality_id', 'topic_id', 'source', 'organization_id', 'escalated_to_id'], unique=False, sqlite_where=sa.text('closed_at IS NOT NULL'), postgresql_where=sa.text('closed_at IS NOT NULL'))
    op.create_index('ix_appeals_due_id', 'appeals', ['response_due_at', 'id'], unique=False)
    op.create_index('ix_appeals_escalated_received', 'appeals', ['received_at', 'organization_id', 'escalated_to_id', 'escalation_work_hours', 'municipality_id', 'topic_id', 'source'], unique=False, sqlite_where=sa.text('escalated_at IS NOT NULL'), postgresql_where=sa.text('escalated_at IS NOT NULL'))
    op.create_index('ix_appeals_escalated_to', 'appeals', ['escalated_to_id'], unique=False)
    if pg:
        op.create_index('ix_appeals_municipality_cases', 'appeals', ['municipality_id', 'received_at'], unique=False, postgresql_include=['id', 'reach', 'response_due_at', 'first_response_at', 'status', 'topic_id', 'source', 'organization_id', 'escalated_to_id'])
    op.create_index('ix_appeals_municipality_received', 'appeals', ['municipality_id', 'received_at'], unique=False)
    op.create_index('ix_appeals_open_due', 'appeals', ['status', 'response_due_at'], unique=False)
    op.create_index('ix_appeals_organization_received', 'appeals', ['organization_id', 'received_at'], unique=False)
    op.create_index('ix_appeals_reach_id', 'appeals', [sa.literal_column('coalesce(reach, -1)'), 'id'], unique=False)
    op.create_index('ix_appeals_received_at', 'appeals', ['received_at'], unique=False)
    op.create_index('ix_appeals_source_reach', 'appeals', ['source', sa.literal_column('coalesce(reach, -1)'), 'received_at', 'id'], unique=False, postgresql_include=['reach', 'municipality_id', 'topic_id', 'organization_id', 'escalated_to_id'])
    op.create_index('ix_appeals_source_received', 'appeals', ['source', 'received_at'], unique=False)
    if pg:
        op.create_index('ix_appeals_topic_cases', 'appeals', ['topic_id', 'received_at'], unique=False, postgresql_include=['id', 'reach', 'response_due_at', 'first_response_at', 'status', 'municipality_id', 'source', 'organization_id', 'escalated_to_id'])
    op.create_index('ix_appeals_topic_received', 'appeals', ['topic_id', 'received_at'], unique=False)
    op.create_index('ix_appeals_unanswered_due', 'appeals', ['response_due_at'], unique=False, sqlite_where=sa.text('first_response_at IS NULL'), postgresql_where=sa.text('first_response_at IS NULL'), postgresql_include=['received_at', 'status', 'municipality_id', 'topic_id', 'source', 'organization_id', 'escalated_to_id'])
    op.create_table('appeal_events',
    sa.Column('id', BIGID, autoincrement=True, nullable=False),
    sa.Column('appeal_id', BIGID, nullable=False),
    sa.Column('at', TS, nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint("kind in ('received', 'assigned', 'reassigned', 'response', 'interim_response', 'escalated', 'closed', 'citizen_confirmed', 'citizen_disputed', 'reopened', 'comment_removed', 'author_blocked')", name=op.f('ck_appeal_events_kind')),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], name=op.f('fk_appeal_events_appeal_id_appeals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_appeal_events_organization_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal_events'))
    )
    op.create_index('ix_appeal_events_appeal_at', 'appeal_events', ['appeal_id', 'at'], unique=False)
    op.create_index('ix_appeal_events_kind', 'appeal_events', ['kind'], unique=False)
    op.create_index('ix_appeal_events_moderation', 'appeal_events', ['appeal_id'], unique=False, sqlite_where=sa.text("kind IN ('comment_removed', 'author_blocked')"), postgresql_where=sa.text("kind IN ('comment_removed', 'author_blocked')"))

    if pg:  # full-text search: a vector PostgreSQL generates and stores from the text, and its GIN index
        op.execute("alter table appeals add column text_tsv tsvector"
                   " generated always as (to_tsvector('russian', text)) stored")
        op.execute("create index ix_appeals_text_fts on appeals using gin (text_tsv)")
    else:
        op.execute(FTS_TABLE)
        for trigger in FTS_TRIGGERS:
            op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("drop table if exists appeals_fts")

    op.drop_table('appeal_events')
    op.drop_table('appeals')
    op.drop_table('organizations')
    op.drop_table('users')
    op.drop_table('user_sessions')
    op.drop_table('topics')
    op.drop_table('sign_in_failures')
    op.drop_table('municipalities')
    op.drop_table('dataset_info')
    op.drop_table('audit_log')
    op.drop_table('agg_hist')
    op.drop_table('agg_counts')
    op.drop_table('agg_closed')
