"""Schedules, their runs, and the schedule a task came from.

Revision ID: 0015_schedules
Revises: 0014_api_keys
"""
import sqlalchemy as sa
from alembic import op

import crazy_gary.db

revision = '0015_schedules'
down_revision = '0014_api_keys'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'schedules',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('cron', sa.String(length=200), nullable=False),
        sa.Column('timezone', sa.String(length=64), nullable=False),
        sa.Column('task', sa.JSON(), nullable=False),
        sa.Column('overlap', sa.String(length=16), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('catch_up', sa.Boolean(), nullable=False),
        sa.Column('created_at', crazy_gary.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', crazy_gary.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_schedules_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_schedules')),
    )
    with op.batch_alter_table('schedules') as batch:
        batch.create_index(batch.f('ix_schedules_user_id'), ['user_id'], unique=False)
        batch.create_index('ix_schedules_user_created', ['user_id', 'created_at'], unique=False)
    op.create_table(
        'schedule_runs',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('schedule_id', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('trigger', sa.String(length=16), nullable=False),
        sa.Column('task_id', sa.String(length=64), nullable=True),
        sa.Column('workflow_id', sa.String(length=200), nullable=True),
        sa.Column('reason', sa.String(length=200), nullable=True),
        sa.Column('scheduled_for', crazy_gary.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('created_at', crazy_gary.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['schedule_id'], ['schedules.id'],
                                name=op.f('fk_schedule_runs_schedule_id_schedules'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_schedule_runs')),
        sa.UniqueConstraint('schedule_id', 'scheduled_for', name='uq_schedule_runs_tick'),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table('schedule_runs') as batch:
        batch.create_index(batch.f('ix_schedule_runs_schedule_id'), ['schedule_id'],
                           unique=False)
    with op.batch_alter_table('tasks') as batch:
        batch.add_column(sa.Column('schedule_id', sa.String(length=64), nullable=True))
        batch.create_index(batch.f('ix_tasks_schedule_id'), ['schedule_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tasks') as batch:
        batch.drop_index(batch.f('ix_tasks_schedule_id'))
        batch.drop_column('schedule_id')
    op.drop_table('schedule_runs')
    op.drop_table('schedules')
