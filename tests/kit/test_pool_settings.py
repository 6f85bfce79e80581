"""A process's PostgreSQL connections follow the pool settings (several processes must fit
one server's max_connections, docs/scaling.md); the defaults stay 20 / 20 / 20."""

from __future__ import annotations

from crazy_gary.config import Settings
from crazy_gary.durable import engine_config
from crazy_gary.startup import build_runtime

URL = "postgresql://nobody@127.0.0.1:1/pools"  # never connected to


def pools(settings: Settings) -> tuple[int, int, int, int]:
    """(application pool, its overflow, direct-read pool, engine pool) the process gets."""
    database = build_runtime(settings).database
    pool = database.engine.sync_engine.pool
    return (pool.size(), pool._max_overflow, database.direct_reader.max_size,
            engine_config(settings)["sys_db_pool_size"])


def test_the_pools_are_sized_by_the_settings():
    settings = Settings(DATABASE_URL=URL, DATABASE_POOL_SIZE=6, DATABASE_MAX_OVERFLOW=4,
                        SYSTEM_DATABASE_POOL_SIZE=8)
    assert pools(settings) == (6, 4, 6, 8)


def test_the_default_pools_are_unchanged():
    assert pools(Settings(DATABASE_URL=URL)) == (20, 20, 10, 20)
