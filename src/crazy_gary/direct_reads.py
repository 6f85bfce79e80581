"""Short read-only queries without SQLAlchemy's execution layers.

`db.fetch_all` sends hot reads here (the signed-in user on a cache miss, the users table's
version, a page of users). A statement is still built with SQLAlchemy Core and compiled by
the database's dialect (a public `Compiled`: its SQL string, `positiontup` and `binds`),
once per statement object; each call then binds, executes and converts the row values with
the processors the column types give for that dialect (`TypeEngine.bind_processor` /
`result_processor`), skipping SQLAlchemy's connection, pool, event and result layers. What
that buys, measured, is in docs/foundation.md and bench/results/; what it relies on in
SQLAlchemy and asyncpg is pinned by tests/kit/test_direct_reads_contract.py.

- SQLite (`SQLiteReader`): inline on the event loop, on one read-only sqlite3 connection
  per thread that never waits on a lock. With WAL a reader does not wait for writers.
- PostgreSQL (`PostgresReader`): a small asyncpg pool of its own.

Either raises `DirectReadUnavailable` when it cannot serve a read (SQLite busy in a
checkpoint, a statement with expanding binds, a lost PostgreSQL connection, another event
loop); the caller then goes through SQLAlchemy.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.dialects import sqlite as sqlite_dialects
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialects
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import Select

from crazy_gary.observability.db import query_span

Row = dict[str, Any]
Processor = Callable[[Any], Any] | None


class DirectReadUnavailable(Exception):
    """This read has to go through SQLAlchemy."""


@dataclass(frozen=True)
class _Prepared:
    sql: str
    bind_names: tuple[str, ...]
    bind_processors: tuple[Processor, ...]
    fixed: Mapping[str, Any]  # values bound in the statement itself (`col == 5`)
    make_row: Callable[[Any], Row]

    def values(self, params: Mapping[str, Any] | None) -> list[Any]:
        params = params or {}
        values = []
        for name, processor in zip(self.bind_names, self.bind_processors, strict=True):
            value = params[name] if name in params else self.fixed[name]
            values.append(value if processor is None else processor(value))
        return values


_UNSUPPORTED: Any = object()


def _prepare(statement: Select, dialect: Dialect) -> _Prepared:
    compiled = statement.compile(dialect=dialect)
    names = tuple(compiled.positiontup or ())
    binds = [compiled.binds[name] for name in names]
    if any(bind.expanding or bind.literal_execute for bind in binds):
        return _UNSUPPORTED
    return _Prepared(
        sql=compiled.string,
        bind_names=names,
        bind_processors=tuple(bind.type.dialect_impl(dialect).bind_processor(dialect)
                              for bind in binds),
        fixed={name: bind.effective_value for name, bind in zip(names, binds, strict=True)
               if not bind.required},
        make_row=_row_maker(list(statement.selected_columns), dialect),
    )


def _row_maker(columns: list, dialect: Dialect) -> Callable[[Any], Row]:
    """A function from a driver's row (a sequence of values) to a dict by column key, with
    each value converted by its type's result processor for `dialect`. The dict is built
    in one C-level step from the raw values; only the columns whose type has a processor
    are then converted one by one."""
    keys = tuple(column.key for column in columns)
    converters = tuple(
        (column.key, index, processor)
        for index, column in enumerate(columns)
        if (processor := column.type.dialect_impl(dialect).result_processor(dialect, None))
        is not None)
    if not converters:
        def plain_row(raw: Any) -> Row:
            return dict(zip(keys, raw, strict=False))

        return plain_row

    def converted_row(raw: Any) -> Row:
        row = dict(zip(keys, raw, strict=False))
        for key, index, convert in converters:
            row[key] = convert(raw[index])
        return row

    return converted_row


class _Statements:
    """Statements prepared for one dialect, by statement object (hot reads use module-level
    statements; the bound only matters for a caller that builds one per call)."""

    MAX_STATEMENTS = 256

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._prepared: dict[Select, _Prepared] = {}

    def get(self, statement: Select) -> _Prepared:
        prepared = self._prepared.get(statement)
        if prepared is None:
            if len(self._prepared) >= self.MAX_STATEMENTS:
                self._prepared.clear()
            prepared = self._prepared[statement] = _prepare(statement, self.dialect)
        if prepared is _UNSUPPORTED:
            raise DirectReadUnavailable(f"not a plain statement: {statement}")
        return prepared


class SQLiteReader:
    """Read-only connections to one SQLite file, used inline on the event loop."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._statements = _Statements(sqlite_dialects.dialect(paramstyle="qmark"))
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    async def fetch_all(self, statement: Select, params: Mapping[str, Any] | None = None
                        ) -> list[Row]:
        prepared = self._statements.get(statement)
        try:
            with query_span("sqlite", prepared.sql):
                raw_rows = self._connection().execute(
                    prepared.sql, prepared.values(params)).fetchall()
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise DirectReadUnavailable(str(exc)) from exc
            raise
        return list(map(prepared.make_row, raw_rows))

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=0, check_same_thread=False)
            connection.execute("PRAGMA query_only=ON")
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    async def close(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()
        self._local = threading.local()


class PostgresReader:
    """A small asyncpg pool, opened on first use, on the event loop that first used it."""

    def __init__(self, dsn: str, max_size: int = 10) -> None:
        self.dsn = dsn
        self.max_size = max_size
        self._statements = _Statements(asyncpg_dialects.dialect())
        self._pool = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._opening = asyncio.Lock()

    async def fetch_all(self, statement: Select, params: Mapping[str, Any] | None = None
                        ) -> list[Row]:
        import asyncpg  # deferred: loaded only where direct reads run (PostgreSQL)

        prepared = self._statements.get(statement)
        pool = await self._pool_of_this_loop()
        try:
            with query_span("postgresql", prepared.sql):
                records = await pool.fetch(prepared.sql, *prepared.values(params))
        except (asyncpg.exceptions.ConnectionDoesNotExistError,
                asyncpg.exceptions.CannotConnectNowError,
                asyncpg.exceptions.InterfaceError, OSError) as exc:
            raise DirectReadUnavailable(str(exc)) from exc  # the engine's pre-ping recovers
        return list(map(prepared.make_row, records))

    async def _pool_of_this_loop(self):
        loop = asyncio.get_running_loop()
        if self._pool is not None:
            if loop is not self._loop:
                raise DirectReadUnavailable("the pool belongs to another event loop")
            return self._pool
        async with self._opening:
            if self._pool is None:
                import asyncpg  # deferred: loaded only with PostgreSQL

                try:
                    self._pool = await asyncpg.create_pool(self.dsn, min_size=1,
                                                           max_size=self.max_size)
                except (OSError, asyncpg.exceptions.PostgresError) as exc:
                    raise DirectReadUnavailable(str(exc)) from exc
                self._loop = loop
        return await self._pool_of_this_loop()

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
