"""A process's PostgreSQL connections follow the pool settings (several processes must fit
one server's max_connections, docs/scaling.md); the defaults stay 20 / 20 / 20."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import text

from crazy_gary.config import Settings
from crazy_gary.db import IDLE_WRITE_LIMIT_SECONDS, Database
from crazy_gary.durable import engine_config
from crazy_gary.startup import build_runtime

URL = "postgresql://nobody@127.0.0.1:1/pools"  # never connected to
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


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


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs TEST_DATABASE_URL")
async def test_step_writes_left_idle_in_a_transaction_are_ended_by_postgresql():
    """A process frozen mid-write (paused, or stopped and declared dead) must not keep its
    row locks: the step-write connections carry a server-side idle limit."""
    database = Database(TEST_DATABASE_URL)
    try:
        with database.blocking_engine.connect() as conn:
            limit = conn.scalar(text("SHOW idle_in_transaction_session_timeout"))
    finally:
        await database.dispose()
    assert limit == f"{IDLE_WRITE_LIMIT_SECONDS}s"


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs TEST_DATABASE_URL")
async def test_pools_that_could_outgrow_the_server_are_reported():
    """Several processes with the default pools can ask for more connections than the
    server has; a process says so when it starts, with the numbers and what to change."""
    roomy = Database(TEST_DATABASE_URL, pool_size=1, max_overflow=0)
    greedy = Database(TEST_DATABASE_URL, pool_size=400, max_overflow=400)
    try:
        assert roomy.connection_ceiling == 1 + 0 + 1 + 1 + 2
        assert await roomy.connection_shortfall(engine_connections=2) is None
        assert greedy.connection_ceiling == 400 + 400 + 10 + 8 + 2
        shortfall = await greedy.connection_shortfall(engine_connections=21)
    finally:
        await roomy.dispose()
        await greedy.dispose()
    assert shortfall is not None
    assert "may open 841 PostgreSQL connections" in shortfall
    assert "max_connections" in shortfall and "DATABASE_POOL_SIZE" in shortfall
