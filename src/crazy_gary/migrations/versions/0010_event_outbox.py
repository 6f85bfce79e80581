"""The event log is an outbox: `events.published_at` marks a row fanned out.

A row is written in the transaction of the state change it describes; the process that
committed it fans it out and marks it. Rows left unmarked (the process died in between)
are found through the partial index and fanned out by the relay. Rows that exist before
this revision were fanned out already.

Revision ID: 0010_event_outbox
Revises: 0009_ids_never_reused
"""
import sqlalchemy as sa
from alembic import op

revision = '0010_event_outbox'
down_revision = '0009_ids_never_reused'
branch_labels = None
depends_on = None

UNPUBLISHED = sa.text('published_at IS NULL')


def upgrade() -> None:
    op.add_column('events', sa.Column('published_at', sa.DateTime(timezone=True),
                                      nullable=True))
    op.execute('UPDATE events SET published_at = created_at')
    op.create_index('ix_events_unpublished', 'events', ['id'],
                    sqlite_where=UNPUBLISHED, postgresql_where=UNPUBLISHED)


def downgrade() -> None:
    op.drop_index('ix_events_unpublished', table_name='events')
    with op.batch_alter_table('events') as batch:
        batch.drop_column('published_at')
