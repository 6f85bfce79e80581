"""Integer ids are never handed out twice: SQLite tables get AUTOINCREMENT.

Without AUTOINCREMENT SQLite gives a new row max(id) + 1, so deleting the newest user (or
event, or step) let the next one take its number. PostgreSQL's serial/identity columns
draw from sequences that never go back: nothing to do there.

Revision ID: 0009_ids_never_reused
Revises: the revisions that create those tables (it merges their branches)
"""
from alembic import op

revision = '0009_ids_never_reused'
down_revision = ('0005_monitoring', '0006_tasks', '0007_heavy', '0008_data_versions')
branch_labels = None
depends_on = None

# Every table with an integer primary key (a later one is created with sqlite_autoincrement).
TABLES = ('users', 'events', 'task_steps', 'heavy_steps', 'request_logs', 'error_logs')
# Triggers dropped with a rebuilt table, recreated after it (0008_data_versions).
VERSIONED = ('users',)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return
    # A table is rebuilt by copy, drop and rename: with foreign keys enforced the drop would
    # cascade-delete every row that refers to it.
    if bind.exec_driver_sql('PRAGMA foreign_keys').scalar():
        raise RuntimeError('migrate with SQLite foreign keys off (the default)')
    for table in TABLES:
        _rebuild(table, autoincrement=True)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return
    for table in TABLES:
        _rebuild(table, autoincrement=False)


def _rebuild(table: str, *, autoincrement: bool) -> None:
    """Copy the table into one declared with (or without) AUTOINCREMENT; ids, indexes and
    constraints are kept, and the id counter starts above the highest id present."""
    with op.batch_alter_table(table, recreate='always',
                              table_kwargs={'sqlite_autoincrement': autoincrement}):
        pass
    if table in VERSIONED:
        bump = f"UPDATE data_versions SET version = version + 1 WHERE name = '{table}'"
        for event in ('INSERT', 'UPDATE', 'DELETE'):
            op.execute(f"CREATE TRIGGER IF NOT EXISTS {table}_version_{event.lower()} "
                       f"AFTER {event} ON {table} BEGIN {bump}; END")
