"""Table versions kept by the database itself.

`data_versions` holds a counter per watched table, bumped by a trigger in the same
transaction as every insert, update or delete of that table (migration
0008_data_versions), whichever process or tool made the change. A reader that read
version v *before* reading the table may serve what it read for as long as the counter
still reads v: any later commit to the table moved the counter with it.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, String, Table, bindparam, select

from crazy_gary.db import Base, Database, fetch_all

data_versions = Table(
    "data_versions",
    Base.metadata,
    Column("name", String(64), primary_key=True),
    Column("version", BigInteger, nullable=False, server_default="0"),
)

_READ = select(data_versions.c.version).where(data_versions.c.name == bindparam("name"))


async def current_version(database: Database, table: str) -> int | None:
    """The table's version now; None if it is not watched (nothing may be cached then)."""
    rows = await fetch_all(database, _READ, {"name": table})
    return rows[0]["version"] if rows else None
