# ruff: noqa: E501
"""Usage ledger, monthly usage counters and per-user quotas.

`usage_records` holds one row per model call or tool call (written with the task step);
`usage_counters` the running total per user and UTC month that the quota check reads;
`user_quotas` the monthly limits admins set. The steps recorded before this revision are
copied into the ledger and this month's counters, so usage reports cover them too.

Revision ID: 0017_usage_quotas
Revises: 0016_webhooks
"""
import sqlalchemy as sa
from alembic import op

import crazy_gary.db

revision = '0017_usage_quotas'
down_revision = '0016_webhooks'
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('usage_records',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.String(length=64), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('model', sa.String(length=128), nullable=True),
    sa.Column('tool', sa.String(length=200), nullable=True),
    sa.Column('prompt_tokens', sa.Integer(), nullable=False),
    sa.Column('completion_tokens', sa.Integer(), nullable=False),
    sa.Column('cost_usd', sa.Float(), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('at', crazy_gary.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_usage_records_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_usage_records')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('usage_records', schema=None) as batch_op:
        batch_op.create_index('ix_usage_records_user_at', ['user_id', 'at'], unique=False)
        batch_op.create_index('ix_usage_records_at', ['at'], unique=False)

    op.create_table('usage_counters',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('tokens', BIG, nullable=False),
    sa.Column('cost_usd', sa.Float(), nullable=False),
    sa.Column('tokens_warned', sa.Boolean(), nullable=False),
    sa.Column('cost_warned', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_usage_counters_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'period', name=op.f('pk_usage_counters'))
    )
    op.create_table('user_quotas',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('monthly_tokens', BIG, nullable=True),
    sa.Column('monthly_cost_usd', sa.Float(), nullable=True),
    sa.Column('updated_at', crazy_gary.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_quotas_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_quotas')),
    sa.UniqueConstraint('user_id', name=op.f('uq_user_quotas_user_id')),
    sqlite_autoincrement=True
    )
    _backfill()


def _backfill() -> None:
    """Earlier steps into the ledger, then every month's counter from the ledger."""
    postgres = op.get_bind().dialect.name == 'postgresql'
    day = ("to_char(s.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')" if postgres
           else "substr(s.created_at, 1, 10)")
    op.execute(f"""
        INSERT INTO usage_records (user_id, task_id, kind, model, tool, prompt_tokens,
                                   completion_tokens, cost_usd, day, at)
        SELECT t.user_id, s.task_id,
               CASE WHEN s.kind = 'tool' THEN 'tool' ELSE 'model' END,
               CASE WHEN s.kind = 'tool' THEN NULL ELSE s.model END,
               CASE WHEN s.kind = 'tool' THEN s.name ELSE NULL END,
               s.prompt_tokens, s.completion_tokens, s.cost_usd, {day}, s.created_at
        FROM task_steps s JOIN tasks t ON t.id = s.task_id
        WHERE s.kind IN ('plan', 'model', 'tool')
        ORDER BY s.id""")
    op.execute("""
        INSERT INTO usage_counters (user_id, period, tokens, cost_usd, tokens_warned,
                                    cost_warned)
        SELECT user_id, substr(day, 1, 7), SUM(prompt_tokens + completion_tokens),
               SUM(cost_usd), false, false
        FROM usage_records GROUP BY user_id, substr(day, 1, 7)""")


def downgrade() -> None:
    op.drop_table('user_quotas')
    op.drop_table('usage_counters')
    with op.batch_alter_table('usage_records', schema=None) as batch_op:
        batch_op.drop_index('ix_usage_records_at')
        batch_op.drop_index('ix_usage_records_user_at')
    op.drop_table('usage_records')
