"""A task started by retrying another names it: `tasks.retry_of`.

Revision ID: 0012_task_retry_of
Revises: 0011_approvals
"""
import sqlalchemy as sa
from alembic import op

revision = '0012_task_retry_of'
down_revision = '0011_approvals'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('tasks', sa.Column('retry_of', sa.String(length=64), nullable=True))
    op.create_index('ix_tasks_retry_of', 'tasks', ['retry_of'])


def downgrade() -> None:
    op.drop_index('ix_tasks_retry_of', table_name='tasks')
    with op.batch_alter_table('tasks') as batch:  # SQLite drops a column by rebuilding
        batch.drop_column('retry_of')
