# ruff: noqa: E501
"""Webhooks: subscriptions, their deliveries, and the outgoing-event rows written in the
transaction of each event webhooks may receive (the dispatcher deletes each row in the
transaction that creates its deliveries).

Revision ID: 0016_webhooks
Revises: 0015_schedules
"""

import sqlalchemy as sa
from alembic import op

import crazy_gary.db


revision = '0016_webhooks'
down_revision = '0015_schedules'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('outgoing_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', crazy_gary.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_outgoing_events_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outgoing_events')),
        sqlite_autoincrement=True,
    )
    op.create_table('webhooks',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('secret', sa.String(length=128), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('disabled_reason', sa.Text(), nullable=True),
    sa.Column('created_at', crazy_gary.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', crazy_gary.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_success_at', crazy_gary.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_webhooks_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhooks'))
    )
    with op.batch_alter_table('webhooks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhooks_user_id'), ['user_id'], unique=False)

    op.create_table('webhook_deliveries',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('webhook_id', sa.String(length=64), nullable=False),
    sa.Column('event', sa.String(length=64), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('run', sa.Integer(), nullable=False),
    sa.Column('last_response_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('next_attempt_at', crazy_gary.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('first_attempt_at', crazy_gary.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_attempt_at', crazy_gary.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', crazy_gary.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', crazy_gary.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['webhook_id'], ['webhooks.id'], name=op.f('fk_webhook_deliveries_webhook_id_webhooks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries'))
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_deliveries_status', ['status'], unique=False)
        batch_op.create_index('ix_webhook_deliveries_webhook', ['webhook_id', 'created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_deliveries_webhook')
        batch_op.drop_index('ix_webhook_deliveries_status')

    op.drop_table('webhook_deliveries')
    with op.batch_alter_table('webhooks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhooks_user_id'))

    op.drop_table('webhooks')
    op.drop_table('outgoing_events')
