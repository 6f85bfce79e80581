# ruff: noqa: E501
"""Tool approvals, and the intent log of write tool calls (issue 17).

Revision ID: 0011_approvals
Revises: 0010_event_outbox
"""

import sqlalchemy as sa
from alembic import op

import crazy_gary.db

revision = '0011_approvals'
down_revision = '0010_event_outbox'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('approvals',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('task_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('call_key', sa.String(length=300), nullable=False),
    sa.Column('tool_call_id', sa.String(length=200), nullable=False),
    sa.Column('tool', sa.String(length=200), nullable=False),
    sa.Column('arguments', sa.JSON(), nullable=True),
    sa.Column('parameters_schema', sa.JSON(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('decided_arguments', sa.JSON(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('requested_at', crazy_gary.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', crazy_gary.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', crazy_gary.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_approvals_task_id_tasks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_approvals_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approvals')),
    sa.UniqueConstraint('task_id', 'call_key', name='uq_approvals_task_call')
    )
    with op.batch_alter_table('approvals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approvals_task_id'), ['task_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_approvals_status'), ['status'], unique=False)
        batch_op.create_index('ix_approvals_user_requested', ['user_id', 'requested_at'], unique=False)

    op.create_table('tool_intents',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('task_id', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('tool', sa.String(length=200), nullable=False),
    sa.Column('started_at', crazy_gary.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_tool_intents_task_id_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tool_intents')),
    sa.UniqueConstraint('task_id', 'seq', 'attempt', name='uq_tool_intents_task_seq_attempt'),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table('tool_intents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tool_intents_task_id'), ['task_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tool_intents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tool_intents_task_id'))
    op.drop_table('tool_intents')
    with op.batch_alter_table('approvals', schema=None) as batch_op:
        batch_op.drop_index('ix_approvals_user_requested')
        batch_op.drop_index(batch_op.f('ix_approvals_status'))
        batch_op.drop_index(batch_op.f('ix_approvals_task_id'))
    op.drop_table('approvals')
