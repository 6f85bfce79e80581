"""Database engine, sessions and the declarative base.

The request (or the workflow step) owns the commit: `get_session` commits when the
handler returns and rolls back when it raises; `session_scope` does the same outside
requests (background jobs, durable steps). `fetch_all` runs a short read-only query
without a session (through `direct_reads`: see its docstring).

`thread_transaction` runs a whole transaction of synchronous ORM/Core code in one worker
thread on the blocking engine, for the writes every agent step makes: through the async
engine each statement is a round trip between the event loop and the driver's thread
(with aiosqlite, a hop to its thread and back per statement): a four-statement
transaction took 1.7x the time in one hop untraced and 2.2x traced (bench/db_paths.py).
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import cached_property
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy import URL, DateTime, Engine, MetaData, Select, create_engine, event, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, ORMExecuteState, Session
from sqlalchemy.types import TypeDecorator

from crazy_gary import runtime
from crazy_gary.direct_reads import DirectReadUnavailable, PostgresReader, SQLiteReader
from crazy_gary.kit.unit_of_work import (
    AfterCommit,
    UnitOfWorkSession,
    committed_jobs,
    run_jobs,
)

T = TypeVar("T")
# Threads for `thread_transaction`: SQLite writes one at a time anyway; PostgreSQL gets
# as many as the blocking engine's pool holds.
TRANSACTION_THREADS = 8

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC) if value.utcoffset() else value

    def result_processor(self, dialect, coltype):
        if dialect.name == "sqlite":
            # SQLite keeps ISO text in UTC; one C parse instead of the generic processor
            # followed by process_result_value (lists read many rows).
            return _sqlite_utc_datetime
        return super().result_processor(dialect, coltype)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        if value.utcoffset():  # PostgreSQL answers in the session's time zone
            return value.astimezone(UTC)
        return value


def _sqlite_utc_datetime(value: str | None) -> datetime | None:
    if value is None:
        return None
    if len(value) in (19, 26):  # as stored: naive UTC "YYYY-MM-DD HH:MM:SS[.ffffff]"
        # Parsing with the offset appended avoids a second object from
        # `replace(tzinfo=...)` (a page of users has a hundred of these).
        return datetime.fromisoformat(value + "+00:00")
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


# How long a transaction may wait for a pooled connection, and on SQLite for the file's one
# write lock. A process runs up to TASK_WORKER_CONCURRENCY tasks; when many of their model
# calls return together their step writes queue for both. Such a wait is a burst, not a
# fault: with the 30 s defaults, 1,000 tasks on a saturated 2-core host failed a few steps
# with "QueuePool limit ... timed out" and "database is locked" (bench/many_agents.py).
POOL_TIMEOUT_SECONDS = 120.0
SQLITE_BUSY_SECONDS = 120


# Connections of the application pool on PostgreSQL (DATABASE_POOL_SIZE /
# DATABASE_MAX_OVERFLOW), and at most this many for the direct reads' own pool.
POOL_SIZE, MAX_OVERFLOW, DIRECT_READ_POOL_MAX = 20, 20, 10
# Step writes' connections beyond their pool: the registry's heartbeat never queues
# behind a burst of step writes.
STEP_WRITE_OVERFLOW = 2
# How long a step-sized write (`thread_transaction`) may sit idle inside its transaction on
# PostgreSQL before the server ends it (see `blocking_engine`).
IDLE_WRITE_LIMIT_SECONDS = 15


class Database:
    """One engine and session factory per process."""

    def __init__(self, url: str, *, pool_size: int = POOL_SIZE,
                 max_overflow: int = MAX_OVERFLOW) -> None:
        self.url, self.pool_size, self.max_overflow = url, pool_size, max_overflow
        # The other pools on PostgreSQL, within the configured pool size.
        self.direct_read_pool = min(DIRECT_READ_POOL_MAX, pool_size)
        self.step_write_pool = min(TRANSACTION_THREADS, pool_size)
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict = {"pool_pre_ping": not self.is_sqlite, "pool_timeout": POOL_TIMEOUT_SECONDS}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": SQLITE_BUSY_SECONDS}
            # Sessions and Connections always end their transaction before giving the
            # connection back; a second "reset" rollback would be one more thread hop.
            kwargs["pool_reset_on_return"] = None
        else:
            kwargs.update(pool_size=pool_size, max_overflow=max_overflow)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False,
                                              class_=UnitOfWorkSession)
        self.direct_reader = _direct_reader(self.engine.url, self.direct_read_pool)

    @cached_property
    def blocking_engine(self) -> Engine:
        """A synchronous engine on the same database for work handed to a worker thread
        (agent-step transactions, batched telemetry writes), so it never holds the event
        loop."""
        url = self.engine.url
        if self.is_sqlite:
            engine = create_engine(url.set(drivername="sqlite"),
                                   connect_args={"timeout": SQLITE_BUSY_SECONDS})
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        # `step_write_pool` + STEP_WRITE_OVERFLOW connections. These transactions run
        # their statements back to back; one left idle is a process frozen mid-write
        # (paused, or stopped and about to be declared dead): PostgreSQL ends it, so its
        # row locks (a user's usage counter, a task row) do not hold up the survivor that
        # takes its work over.
        return create_engine(url.set(drivername="postgresql+psycopg"),
                             pool_size=self.step_write_pool,
                             max_overflow=STEP_WRITE_OVERFLOW, pool_pre_ping=True,
                             pool_timeout=POOL_TIMEOUT_SECONDS,
                             connect_args={"options": "-c idle_in_transaction_session_timeout="
                                           f"{IDLE_WRITE_LIMIT_SECONDS * 1000:.0f}"})

    @cached_property
    def transaction_threads(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(TRANSACTION_THREADS, thread_name_prefix="db-transaction")

    @property
    def connection_ceiling(self) -> int:
        """The most PostgreSQL connections this process's own pools open at once: the
        application pool with its overflow, the direct reads, the step writes."""
        return (self.pool_size + self.max_overflow + self.direct_read_pool
                + self.step_write_pool + STEP_WRITE_OVERFLOW)

    async def connection_shortfall(self, *, engine_connections: int) -> str | None:
        """Why this process, with its pools full and the durable engine's
        `engine_connections`, could run PostgreSQL out of connections, or None. Counted
        against `max_connections` less the superusers' reserve and what other clients hold
        now; a shortfall shows only under load, as 503s once a pool waits in vain."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(text(
                "SELECT current_setting('max_connections')::int AS most,"
                " current_setting('superuser_reserved_connections')::int AS reserved,"
                " (SELECT count(*) FROM pg_stat_activity"
                "  WHERE backend_type = 'client backend') - 1 AS others"))).one()
        wanted = self.connection_ceiling + engine_connections
        free = row.most - row.reserved - row.others
        if wanted <= free:
            return None
        return (f"this process may open {wanted} PostgreSQL connections "
                f"({self.connection_ceiling} for the service, {engine_connections} for the "
                f"durable engine) but the server has {free} free (max_connections "
                f"{row.most}, {row.reserved} reserved, {row.others} in use): lower "
                "DATABASE_POOL_SIZE, DATABASE_MAX_OVERFLOW and SYSTEM_DATABASE_POOL_SIZE, or "
                "raise max_connections (docs/scaling.md, Connections)")

    async def dispose(self) -> None:
        if self.direct_reader is not None:
            await self.direct_reader.close()
        if "transaction_threads" in self.__dict__:
            self.transaction_threads.shutdown(wait=True)
        if "blocking_engine" in self.__dict__:
            self.blocking_engine.dispose()
        await self.engine.dispose()


@event.listens_for(Session, "do_orm_execute")
def _note_write_statement(state: ORMExecuteState) -> None:
    """Remember that a session wrote, so read-only sessions can skip the commit."""
    if not state.is_select:
        state.session.info["wrote"] = True


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _context) -> None:
    session.info["wrote"] = True


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _reset_write_flag(session: Session) -> None:
    session.info.pop("wrote", None)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def get_database() -> Database:
    """The running runtime's database (for code outside a request: steps, jobs)."""
    return runtime.current().database


@asynccontextmanager
async def session_scope(database: Database | None = None) -> AsyncIterator[AsyncSession]:
    """A session that commits on success and rolls back on error."""
    async with (database or get_database()).sessionmaker() as session:
        try:
            yield session
            if session.info.get("wrote") or session.new or session.dirty or session.deleted:
                await session.commit()
            # else: a read-only request; closing the session ends its transaction.
        except BaseException:
            await session.rollback()
            raise


async def thread_transaction(work: Callable[[Session], T],
                             database: Database | None = None) -> T:
    """Run `work(session)` as one transaction in a worker thread on the blocking engine:
    committed when it returns, rolled back when it raises. What it collected with
    `after_commit` (events to fan out) runs here, on the event loop, once committed. The
    caller's context (its trace) goes along to the thread."""
    db = database or get_database()

    def run() -> tuple[T, list[AfterCommit]]:
        with Session(db.blocking_engine, expire_on_commit=False) as session:
            result = work(session)
            session.commit()
            return result, committed_jobs(session)

    context = contextvars.copy_context()
    result, jobs = await asyncio.get_running_loop().run_in_executor(
        db.transaction_threads, context.run, run)
    await run_jobs(jobs)
    return result


def _direct_reader(url: URL, pool_max: int) -> SQLiteReader | PostgresReader | None:
    if url.get_backend_name() == "sqlite":
        return None if url.database in (None, "", ":memory:") else SQLiteReader(url.database)
    if url.get_backend_name() == "postgresql":
        return PostgresReader(url.set(drivername="postgresql").render_as_string(
            hide_password=False), max_size=pool_max)
    return None


async def fetch_all(
    database: Database, statement: Select, params: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The rows of one short read-only query, outside any session, as dicts by column key
    (ready to encode).

    They are read by the database's direct reader (`direct_reads`: on SQLite inline on the
    event loop, on PostgreSQL through a raw asyncpg pool), or through SQLAlchemy's async
    engine when that reader cannot serve it.
    """
    if database.direct_reader is not None:
        try:
            return await database.direct_reader.fetch_all(statement, params)
        except DirectReadUnavailable:
            pass
    async with database.engine.connect() as connection:
        result = await connection.execute(statement, params)
        return [dict(row) for row in result.mappings()]


def request_database(request: Request) -> Database:
    """The database of the runtime serving this request."""
    return runtime.of(request).database


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """FastAPI dependency: the request's session; committed before the response is sent."""
    async with session_scope(request_database(request)) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
