"""Publishing into the event log, and reading it back (replay, counts)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crazy_gary.db import session_scope
from crazy_gary.kit.clock import iso
from crazy_gary.observability.metrics import EVENTS_PUBLISHED
from crazy_gary.realtime.broker import PublishedEvent
from crazy_gary.realtime.fanout import get_fanout
from crazy_gary.realtime.models import Event

log = logging.getLogger(__name__)


async def publish(event: str, data: dict[str, Any], *, user_id: int | None = None) -> int:
    """Append an event (owned by a user, or the system when user_id is None) and fan it out.

    The row is committed before anyone is told, so a client that reconnects with
    Last-Event-ID always finds what it missed. Returns the event id.
    """
    async with session_scope() as session:
        row = Event(event=event, data=data, user_id=user_id)
        session.add(row)
        await session.flush()
        published = PublishedEvent(
            id=row.id, event=event, data=data, user_id=user_id, timestamp=iso(row.created_at)
        )
    EVENTS_PUBLISHED.labels(event=event).inc()
    fanout = await get_fanout()
    await fanout.send(published)
    return published.id


def _to_published(row: Event) -> PublishedEvent:
    return PublishedEvent(id=row.id, event=row.event, data=row.data, user_id=row.user_id,
                          timestamp=iso(row.created_at))


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
    return [_to_published(row) for row in rows]


async def latest_event(session: AsyncSession, *, event: str) -> PublishedEvent | None:
    row = await session.scalar(
        select(Event).where(Event.event == event).order_by(Event.id.desc()).limit(1))
    return _to_published(row) if row else None


async def counts_by_kind(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(Event.event, func.count()).group_by(Event.event))
    return {name: count for name, count in rows}


async def prune(session: AsyncSession, *, older_than: datetime) -> int:
    """Drop events older than the retention horizon (replay reaches back this far)."""
    result = await session.execute(delete(Event).where(Event.created_at < older_than))
    return result.rowcount or 0
