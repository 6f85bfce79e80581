"""What `direct_reads` relies on in SQLAlchemy and asyncpg.

Each test names one thing the direct readers use to run a Core statement without
SQLAlchemy's execution layers; when an upgrade changes it, the failure says which.
"""

from __future__ import annotations

import inspect

import asyncpg
import pytest
from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table, bindparam, select
from sqlalchemy.dialects import sqlite as sqlite_dialects
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialects
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.types import TypeEngine

from crazy_gary.db import UTCDateTime
from tests.conftest import TEST_DATABASE_URL

metadata = MetaData()
probes = Table(
    "contract_probes", metadata,
    Column("id", Integer, primary_key=True),
    Column("label", String(20)),
    Column("flag", Boolean),
    Column("seen_at", UTCDateTime()),
)
# A named bind, then a value bound in the statement itself.
STATEMENT = select(probes.c.id, probes.c.flag).where(
    probes.c.label == bindparam("label"), probes.c.id > 1)
SQLITE = sqlite_dialects.dialect(paramstyle="qmark")
ASYNCPG = asyncpg_dialects.dialect()


def _parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_type_processors_are_per_dialect():
    assert _parameters(TypeEngine.result_processor) == ["self", "dialect", "coltype"]
    assert _parameters(TypeEngine.bind_processor) == ["self", "dialect"]
    assert _parameters(TypeEngine.dialect_impl) == ["self", "dialect"]
    convert = Boolean().dialect_impl(SQLITE).result_processor(SQLITE, None)
    assert convert is not None and convert(1) is True and convert(None) is None


@pytest.mark.parametrize(("dialect", "placeholders"), [(SQLITE, ["?", "?"]),
                                                       (ASYNCPG, ["$1", "$2"])],
                         ids=["sqlite", "asyncpg"])
def test_a_compiled_statement_gives_positional_sql_and_its_binds(dialect, placeholders):
    compiled = STATEMENT.compile(dialect=dialect)
    assert all(mark in compiled.string for mark in placeholders)
    names = list(compiled.positiontup)
    assert len(names) == 2 and names[0] == "label"
    label, fixed = (compiled.binds[name] for name in names)
    assert isinstance(label, BindParameter) and isinstance(fixed, BindParameter)
    assert label.required and not fixed.required and fixed.effective_value == 1
    assert not (label.expanding or label.literal_execute)


def test_expanding_binds_are_flagged():
    compiled = select(probes.c.id).where(probes.c.id.in_([1, 2])).compile(dialect=SQLITE)
    assert any(bind.expanding for bind in compiled.binds.values())


def test_selected_columns_carry_their_keys_and_types():
    columns = list(STATEMENT.selected_columns)
    assert [column.key for column in columns] == ["id", "flag"]
    assert isinstance(columns[1].type, Boolean)


def test_asyncpg_pool_api():
    assert {"min_size", "max_size"} <= set(_parameters(asyncpg.create_pool))
    assert _parameters(asyncpg.pool.Pool.fetch)[:3] == ["self", "query", "args"]
    for name in ("ConnectionDoesNotExistError", "CannotConnectNowError", "InterfaceError",
                 "PostgresError"):
        assert issubclass(getattr(asyncpg.exceptions, name), Exception), name


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="PostgreSQL only (TEST_DATABASE_URL)")
async def test_asyncpg_records_iterate_as_their_values():
    pool = await asyncpg.create_pool(TEST_DATABASE_URL, min_size=1, max_size=1)
    try:
        rows = await pool.fetch("SELECT $1::int AS a, $2::text AS b", 7, "x")
    finally:
        await pool.close()
    assert [list(row) for row in rows] == [[7, "x"]]
