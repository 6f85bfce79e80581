"""The event log as an outbox.

`record` adds an event row to the caller's session, so the state change and the event that
describes it commit (or roll back) together. Once the session commits, the unit of work
(kit/unit_of_work.py) hands the committed row to the fan-out (SSE, socket.io, Redis); the
fan-out notes its id and the `Relay` marks it `published_at` in one batched write a second.

A process that dies between the commit and the fan-out leaves its rows unmarked. Every
process runs a `Relay`: on start and every `EVENTS_RELAY_SECONDS` it claims unmarked rows
older than that interval with one conditional UPDATE (only one process gets each row) and
fans them out. Clients see each event once: every process drops an id it already sent
(`Fanout.recent`), and an SSE stream drops live copies of what it replayed.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from crazy_gary.db import Database, session_scope, utcnow
from crazy_gary.kit.clock import iso
from crazy_gary.kit.unit_of_work import after_commit
from crazy_gary.observability.metrics import EVENTS_PUBLISHED
from crazy_gary.realtime.broker import PublishedEvent
from crazy_gary.realtime.external import external_type
from crazy_gary.realtime.fanout import Fanout, get_fanout
from crazy_gary.realtime.models import Event, OutgoingEvent

log = logging.getLogger(__name__)

RELAY_BATCH = 500
MARK_SECONDS = 1.0


def record(session: AsyncSession | Session, event: str, data: dict[str, Any], *,
           user_id: int | None = None) -> Event:
    """Log an event (owned by a user, or the system when user_id is None) in the caller's
    transaction; it is fanned out once that transaction commits, never if it rolls back."""
    row = Event(event=event, data=data, user_id=user_id)
    session.add(row)
    outgoing = external_type(event, data)
    if outgoing is not None:  # promised to webhooks in the same transaction
        session.add(OutgoingEvent(type=outgoing, data=data, user_id=user_id))
    after_commit(session, partial(_fan_out, row))
    return row


def to_published(row: Any) -> PublishedEvent:
    return PublishedEvent(id=row.id, event=row.event, data=row.data, user_id=row.user_id,
                          timestamp=iso(row.created_at))


async def _fan_out(row: Event) -> None:
    EVENTS_PUBLISHED.labels(event=row.event).inc()
    fanout = await get_fanout()
    await fanout.send(to_published(row))


class Relay:
    """Marks what this process fanned out; fans out what a dead process left unmarked."""

    def __init__(self, database: Database, fanout: Fanout, *, interval: float = 5.0) -> None:
        self.database = database
        self.fanout = fanout
        self.interval = interval
        self.tick = min(MARK_SECONDS, interval)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="events-outbox-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        try:
            await self.mark_delivered()
        except Exception as exc:  # the relay of the next start sends them again
            log.warning("could not mark fanned-out events: %s", exc)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_relay = loop.time()  # relay once at start
        while True:
            try:
                await self.mark_delivered()
                if loop.time() >= next_relay:
                    next_relay = loop.time() + self.interval
                    await self.relay_unmarked()
            except Exception as exc:  # database unavailable: try again next tick
                log.warning("event relay failed: %s", exc)
            await asyncio.sleep(self.tick)

    async def mark_delivered(self) -> None:
        """One UPDATE for every event fanned out here since the last call."""
        ids, self.fanout.delivered = self.fanout.delivered, []
        for start in range(0, len(ids), RELAY_BATCH):
            chunk = ids[start:start + RELAY_BATCH]
            async with session_scope(self.database) as session:
                await session.execute(
                    update(Event).where(Event.id.in_(chunk), Event.published_at.is_(None))
                    .values(published_at=utcnow()).execution_options(synchronize_session=False))

    async def relay_unmarked(self) -> int:
        """Claim and fan out committed rows nobody marked within the interval; how many."""
        relayed = 0
        while True:
            cutoff = utcnow() - timedelta(seconds=self.interval)
            async with session_scope(self.database) as session:
                ids = list(await session.scalars(
                    select(Event.id).where(Event.published_at.is_(None),
                                           Event.created_at < cutoff)
                    .order_by(Event.id).limit(RELAY_BATCH)))
                if not ids:
                    return relayed
                # Conditional: a row another process claimed first is not returned here.
                claimed = (await session.execute(
                    update(Event).where(Event.id.in_(ids), Event.published_at.is_(None))
                    .values(published_at=utcnow())
                    .returning(Event.id, Event.event, Event.data, Event.user_id,
                               Event.created_at)
                    .execution_options(synchronize_session=False))).all()
            for row in sorted(claimed, key=lambda r: r.id):
                log.info("relaying event %s (%s) left unpublished", row.id, row.event)
                EVENTS_PUBLISHED.labels(event=row.event).inc()
                await self.fanout.send(to_published(row), mark=False)
            relayed += len(claimed)
            if len(ids) < RELAY_BATCH:
                return relayed
