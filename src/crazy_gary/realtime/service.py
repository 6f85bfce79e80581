"""Publishing: append to the event log, then hand to the in-process fan-out."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from crazy_gary.db import session_scope
from crazy_gary.kit.clock import iso
from crazy_gary.realtime.models import Event

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PublishedEvent:
    id: int
    event: str
    data: dict[str, Any]
    user_id: int | None
    timestamp: str | None = None

    def visible_to(self, user_id: int) -> bool:
        """A user sees their own events and system events, never another user's."""
        return self.user_id is None or self.user_id == user_id


@dataclass
class LocalBroker:
    """In-process fan-out to subscriber queues."""

    subscribers: set[asyncio.Queue[PublishedEvent]] = field(default_factory=set)

    def subscribe(self, maxsize: int = 1000) -> asyncio.Queue[PublishedEvent]:
        queue: asyncio.Queue[PublishedEvent] = asyncio.Queue(maxsize=maxsize)
        self.subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[PublishedEvent]) -> None:
        self.subscribers.discard(queue)

    def deliver(self, event: PublishedEvent) -> None:
        for queue in list(self.subscribers):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                log.warning("subscriber queue full; dropping event %s for it", event.id)


broker = LocalBroker()


async def publish(event: str, data: dict[str, Any], *, user_id: int | None = None) -> int:
    """Append an event (owned by a user, or the system when user_id is None) and fan it out."""
    async with session_scope() as session:
        row = Event(event=event, data=data, user_id=user_id)
        session.add(row)
        await session.flush()
        published = PublishedEvent(
            id=row.id, event=event, data=data, user_id=user_id, timestamp=iso(row.created_at)
        )
    broker.deliver(published)
    return published.id
