"""Publishing into the event log, and reading it back (replay, counts)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crazy_gary.db import session_scope
from crazy_gary.kit.dml import rows_changed
from crazy_gary.realtime.broker import PublishedEvent
from crazy_gary.realtime.models import Event
from crazy_gary.realtime.outbox import record, to_published


async def publish(event: str, data: dict[str, Any], *, user_id: int | None = None) -> int:
    """Log and fan out an event that describes no state change of its own (a health
    reading, a test message). A state change records its event in its own transaction
    with `outbox.record` instead. Returns the event id once the event was fanned out."""
    async with session_scope() as session:
        row = record(session, event, data, user_id=user_id)
    return row.id


async def events_after(
    session: AsyncSession, *, user_id: int, after_id: int, limit: int = 1000
) -> list[PublishedEvent]:
    """The events a user may see with ids above `after_id`, oldest first."""
    rows = await session.scalars(
        select(Event)
        .where(Event.id > after_id, or_(Event.user_id.is_(None), Event.user_id == user_id))
        .order_by(Event.id)
        .limit(limit)
    )
    return [to_published(row) for row in rows]


async def latest_event(session: AsyncSession, *, event: str) -> PublishedEvent | None:
    row = await session.scalar(
        select(Event).where(Event.event == event).order_by(Event.id.desc()).limit(1))
    return to_published(row) if row else None


async def counts_by_kind(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(Event.event, func.count()).group_by(Event.event))
    return {name: count for name, count in rows}


async def prune(session: AsyncSession, *, older_than: datetime) -> int:
    """Drop events older than the retention horizon (replay reaches back this far)."""
    return await rows_changed(session, delete(Event).where(Event.created_at < older_than))
