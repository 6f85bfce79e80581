"""The executor registry replaces the process heartbeats: one row per executor id with its
role, host, pid, version, state (alive/draining/gone), last beat and who took its work over.

The heartbeat rows are only liveness samples (pruned after a day), so they are dropped, not
carried over: every running process registers again on its next start.

Revision ID: 0013_executors
Revises: 0012_task_retry_of
"""
import sqlalchemy as sa
from alembic import op

import crazy_gary.db

revision = '0013_executors'
down_revision = '0012_task_retry_of'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('process_heartbeats') as batch:
        batch.drop_index('ix_process_heartbeats_last_seen')
    op.drop_table('process_heartbeats')
    op.create_table(
        'executors',
        sa.Column('executor_id', sa.String(length=128), nullable=False),
        sa.Column('incarnation', sa.String(length=32), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('host', sa.String(length=255), nullable=False),
        sa.Column('pid', sa.Integer(), nullable=False),
        sa.Column('version', sa.String(length=64), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('started_at', crazy_gary.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_seen', crazy_gary.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('left_at', crazy_gary.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('claimed_by', sa.String(length=128), nullable=True),
        sa.Column('claimed_at', crazy_gary.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('executor_id', name=op.f('pk_executors')),
    )
    op.create_index(op.f('ix_executors_state'), 'executors', ['state'])
    op.create_index(op.f('ix_executors_last_seen'), 'executors', ['last_seen'])


def downgrade() -> None:
    op.drop_index(op.f('ix_executors_last_seen'), table_name='executors')
    op.drop_index(op.f('ix_executors_state'), table_name='executors')
    op.drop_table('executors')
    op.create_table(
        'process_heartbeats',
        sa.Column('process', sa.String(length=128), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('executor_id', sa.String(length=128), nullable=False),
        sa.Column('pid', sa.Integer(), nullable=False),
        sa.Column('started_at', crazy_gary.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_seen', crazy_gary.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('process', name=op.f('pk_process_heartbeats')),
    )
    op.create_index('ix_process_heartbeats_last_seen', 'process_heartbeats', ['last_seen'])
