"""Table versions bumped by triggers (crazy_gary.data_versions).

Revision ID: 0008_data_versions
Revises: 0001_foundation
"""
from alembic import op
import sqlalchemy as sa

revision = '0008_data_versions'
down_revision = '0001_foundation'
branch_labels = ('data_versions',)
depends_on = None

WATCHED_TABLES = ('users',)  # a later table gets its own revision


def upgrade() -> None:
    op.create_table('data_versions',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('version', sa.BigInteger(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_data_versions'))
    )
    postgres = op.get_bind().dialect.name == 'postgresql'
    for table in WATCHED_TABLES:
        op.execute(f"INSERT INTO data_versions (name, version) VALUES ('{table}', 0)")
        bump = f"UPDATE data_versions SET version = version + 1 WHERE name = '{table}'"
        if postgres:
            op.execute(f"CREATE FUNCTION bump_{table}_version() RETURNS trigger "
                       f"LANGUAGE plpgsql AS $$ BEGIN {bump}; RETURN NULL; END $$")
            op.execute(f"CREATE TRIGGER {table}_version AFTER INSERT OR UPDATE OR DELETE "
                       f"OR TRUNCATE ON {table} FOR EACH STATEMENT "
                       f"EXECUTE FUNCTION bump_{table}_version()")
        else:  # SQLite has row triggers only
            for event in ('INSERT', 'UPDATE', 'DELETE'):
                op.execute(f"CREATE TRIGGER {table}_version_{event.lower()} AFTER {event} "
                           f"ON {table} BEGIN {bump}; END")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    for table in WATCHED_TABLES:
        if postgres:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_version ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS bump_{table}_version()")
        else:
            for event in ('insert', 'update', 'delete'):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_version_{event}")
    op.drop_table('data_versions')
