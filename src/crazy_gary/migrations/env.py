"""Alembic environment: synchronous driver, one advisory lock on PostgreSQL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, text

import crazy_gary.models  # noqa: F401  (registers every table)
from crazy_gary.db import Base

config = context.config
target_metadata = Base.metadata
MIGRATION_LOCK = 7_411_204


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("alembic config has no sqlalchemy.url")
    engine = create_engine(url)
    with engine.connect() as connection:
        is_pg = connection.dialect.name == "postgresql"
        if is_pg:  # several processes may start at once: one migrates, the others wait
            connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
            connection.commit()
        try:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=connection.dialect.name == "sqlite",
            )
            with context.begin_transaction():
                context.run_migrations()
        finally:
            if is_pg:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
                connection.commit()
    engine.dispose()


run_migrations_online()
