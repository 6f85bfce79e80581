"""Direct reads (`db.fetch_all` without SQLAlchemy's execution layers) return what
SQLAlchemy would, and fall back to it when they cannot serve a read."""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import (
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    func,
    select,
    text,
)

from crazy_gary.config import to_sync_url
from crazy_gary.db import Database, UTCDateTime, fetch_all
from tests.conftest import TEST_DATABASE_URL

metadata = MetaData()
probes = Table(
    "direct_read_probes", metadata,
    Column("id", Integer, primary_key=True),
    Column("label", String(20)),
    Column("flag", Boolean),
    Column("seen_at", UTCDateTime()),
)
SEEN = datetime(2026, 11, 26, 5, 40, 0, 123456, tzinfo=UTC)
BY_LABEL = select(probes.c.id, probes.c.flag, probes.c.seen_at).where(
    probes.c.label == bindparam("label")).order_by(probes.c.id)
SEEN_SINCE = select(probes.c.id).where(probes.c.seen_at >= bindparam("since"),
                                       probes.c.id > 1)  # a bind with its own value
IN_LIST = select(probes.c.id).where(probes.c.id.in_([1, 3])).order_by(probes.c.id)


def _urls() -> list[str]:
    path = Path(tempfile.mkdtemp(prefix="cg-direct-")) / "probe.db"
    urls = [f"sqlite+aiosqlite:///{path}"]
    if TEST_DATABASE_URL:
        urls.append(TEST_DATABASE_URL.replace("postgresql://", "postgresql+asyncpg://", 1))
    return urls


@pytest.fixture(params=_urls(), ids=lambda url: url.split(":", 1)[0])
def url(request):
    engine = create_engine(to_sync_url(request.param).replace(
        "postgresql://", "postgresql+psycopg://", 1))
    metadata.drop_all(engine)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(probes.insert(), [
            {"id": 1, "label": "a", "flag": True, "seen_at": SEEN},
            {"id": 2, "label": "a", "flag": False, "seen_at": None},
            {"id": 3, "label": "b", "flag": None, "seen_at": SEEN},
        ])
    yield request.param
    metadata.drop_all(engine)
    engine.dispose()


async def _with_database(url: str, work):
    database = Database(url)
    try:
        assert database.direct_reader is not None
        return await work(database)
    finally:
        await database.dispose()


async def test_rows_are_dicts_of_converted_values(url):
    async def work(database):
        rows = await fetch_all(database, BY_LABEL, {"label": "a"})
        assert rows == [{"id": 1, "flag": True, "seen_at": SEEN},
                        {"id": 2, "flag": False, "seen_at": None}]
        assert rows[0]["seen_at"].utcoffset().total_seconds() == 0
        assert await fetch_all(database, SEEN_SINCE, {"since": SEEN}) == [{"id": 3}]
        # Expanding binds are not prepared directly: SQLAlchemy runs them.
        assert await fetch_all(database, IN_LIST) == [{"id": 1}, {"id": 3}]

    await _with_database(url, work)


async def test_a_direct_read_and_sqlalchemy_agree(url):
    async def work(database):
        direct = await fetch_all(database, BY_LABEL, {"label": "a"})
        async with database.engine.connect() as connection:
            through_engine = [dict(r) for r in
                              (await connection.execute(BY_LABEL, {"label": "a"})).mappings()]
        assert direct == through_engine

    await _with_database(url, work)


async def test_sqlite_busy_falls_back_to_the_async_driver():
    """A reader never waits on a lock in the event loop: when SQLite is locked (here by an
    exclusive transaction on a database not in WAL mode) the read goes through aiosqlite,
    which waits for the lock in its thread."""
    path = Path(tempfile.mkdtemp(prefix="cg-busy-")) / "busy.db"
    engine = create_engine(f"sqlite:///{path}")
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(probes.insert(), [{"id": 1, "label": "a", "flag": True, "seen_at": SEEN}])
    engine.dispose()
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    released = threading.Event()

    def release_soon():
        time.sleep(0.3)
        holder.execute("COMMIT")
        released.set()

    async def work(database):
        threading.Thread(target=release_soon, daemon=True).start()
        rows = await fetch_all(database, BY_LABEL, {"label": "a"})
        assert released.is_set()  # it waited for the lock, off the loop
        assert rows == [{"id": 1, "flag": True, "seen_at": SEEN}]

    try:
        await _with_database(f"sqlite+aiosqlite:///{path}", work)
    finally:
        holder.close()


PG_URL = (TEST_DATABASE_URL.replace("postgresql://", "postgresql+asyncpg://", 1)
          if TEST_DATABASE_URL else None)


@pytest.mark.skipif(PG_URL is None, reason="PostgreSQL only (TEST_DATABASE_URL)")
@pytest.mark.parametrize("url", [PG_URL], indirect=True, ids=["postgresql"])
async def test_postgres_reads_survive_their_connection_being_killed(url):
    async def work(database):
        assert len(await fetch_all(database, BY_LABEL, {"label": "a"})) == 2
        # The reader's one pooled connection (it is used one read at a time here).
        pid = (await fetch_all(database, select(func.pg_backend_pid().label("pid"))))[0]["pid"]
        admin = create_engine(to_sync_url(url).replace("postgresql://",
                                                       "postgresql+psycopg://", 1))
        with admin.begin() as conn:  # as a server restart or a network cut would
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
        admin.dispose()
        for _ in range(3):
            assert len(await fetch_all(database, BY_LABEL, {"label": "a"})) == 2
            await asyncio.sleep(0.05)

    await _with_database(url, work)
