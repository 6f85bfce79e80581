"""API keys: long-lived, scoped credentials, kept as SHA-256 hashes.

The unique index on `key_hash` is the lookup every keyed request makes.

Revision ID: 0014_api_keys
Revises: 0013_executors
"""
import sqlalchemy as sa
from alembic import op

import crazy_gary.db

revision = '0014_api_keys'
down_revision = '0013_executors'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'api_keys',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('prefix', sa.String(length=16), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('scopes', sa.String(length=400), nullable=False),
        sa.Column('created_at', crazy_gary.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', crazy_gary.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_used_at', crazy_gary.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_api_keys_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
        sa.UniqueConstraint('key_hash', name=op.f('uq_api_keys_key_hash')),
    )
    op.create_index(op.f('ix_api_keys_user_id'), 'api_keys', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_api_keys_user_id'), table_name='api_keys')
    op.drop_table('api_keys')
