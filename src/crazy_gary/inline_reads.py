"""Short read-only SQLite queries run inline on the event loop, on raw sqlite3.

`db.fetch_all` sends hot reads here (the signed-in user on a cache miss, a page of users).
A statement is still built with SQLAlchemy Core and compiled by its SQLite dialect, once
per statement object; each call then binds, executes and converts the row values with the
same type processors SQLAlchemy would use, without its connection, pool, event and result
layers, which cost about twice the query itself for a page of 50 rows
(bench/results/http_auth-*.md).

Connections are read-only, one per thread, and never wait on a lock: with WAL a reader
does not wait for writers, and if SQLite reports it busy anyway (a checkpoint) the caller
falls back to the async driver.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.sql import Select

from crazy_gary.observability.db import query_span

_DIALECT = sqlite_dialect.dialect(paramstyle="qmark")
Processor = Callable[[Any], Any] | None


class NotInlinable(Exception):
    """The statement needs SQLAlchemy's full execution path (expanding or literal binds)."""


@dataclass(frozen=True)
class _Prepared:
    sql: str
    bind_names: tuple[str, ...]
    bind_processors: tuple[Processor, ...]
    fixed: Mapping[str, Any]  # values bound in the statement itself (`col == 5`)
    make_row: Callable[[tuple], dict[str, Any]]


_UNSUPPORTED: Any = object()


def _prepare(statement: Select) -> _Prepared:
    compiled = statement.compile(dialect=_DIALECT)
    names = tuple(compiled.positiontup or ())
    binds = [compiled.binds[name] for name in names]
    if any(bind.expanding or bind.literal_execute for bind in binds):
        return _UNSUPPORTED
    columns = list(statement.selected_columns)
    return _Prepared(
        sql=compiled.string,
        bind_names=names,
        bind_processors=tuple(bind.type.dialect_impl(_DIALECT).bind_processor(_DIALECT)
                              for bind in binds),
        fixed={name: bind.effective_value for name, bind in zip(names, binds, strict=True)
               if not bind.required},
        make_row=_row_maker(columns),
    )


def _row_maker(columns: list) -> Callable[[tuple], dict[str, Any]]:
    """A function from a raw sqlite3 row to a dict of converted values by column key,
    written out per statement as one dict display (the generic loop over processors, or
    building named tuples first, costs as much as the query for a page of rows)."""
    namespace: dict[str, Any] = {}
    items = []
    for index, column in enumerate(columns):
        processor = column.type.dialect_impl(_DIALECT).result_processor(_DIALECT, None)
        value = f"raw[{index}]"
        if processor is not None:
            namespace[f"convert_{index}"] = processor
            value = f"convert_{index}({value})"
        items.append(f"{column.key!r}: {value}")
    exec(f"def make_row(raw):\n    return {{{', '.join(items)}}}", namespace)  # noqa: S102
    return namespace["make_row"]


class InlineReader:
    """Read-only connections to one SQLite file and the statements prepared for them."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._prepared: dict[Select, _Prepared] = {}

    def fetch_all(
        self, statement: Select, params: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """The rows of a SELECT as dicts by column key; raises sqlite3.OperationalError
        when busy and NotInlinable for a statement this path does not handle."""
        prepared = self._prepared.get(statement)
        if prepared is None:
            prepared = self._prepared[statement] = _prepare(statement)
        if prepared is _UNSUPPORTED:
            raise NotInlinable(str(statement))
        params = params or {}
        values = []
        for name, processor in zip(prepared.bind_names, prepared.bind_processors, strict=True):
            value = params[name] if name in params else prepared.fixed[name]
            values.append(value if processor is None else processor(value))
        with query_span("sqlite", prepared.sql):
            raw_rows = self._connection().execute(prepared.sql, values).fetchall()
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

    def close(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()
        self._local = threading.local()
