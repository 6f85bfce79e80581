"""Row counts of data-changing statements, typed."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable


async def rows_changed(session: AsyncSession, statement: Executable) -> int:
    """Run an INSERT, UPDATE or DELETE and return how many rows it changed."""
    # An INSERT/UPDATE/DELETE always yields a CursorResult; Session.execute is typed as
    # returning the base Result for every statement kind.
    result = cast(CursorResult[Any], await session.execute(statement))
    return result.rowcount or 0


def rows_changed_now(session: Session, statement: Executable) -> int:
    """`rows_changed` for a synchronous session (work run by `db.thread_transaction`)."""
    result = cast(CursorResult[Any], session.execute(statement))
    return result.rowcount or 0
