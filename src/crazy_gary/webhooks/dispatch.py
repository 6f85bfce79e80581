"""From promised events to deliveries: each process's dispatcher claims the outgoing event
rows (one DELETE ... RETURNING, so one process gets each), creates one delivery per
subscribed webhook in the same transaction, and starts the deliveries' workflows after
the commit. Deliveries whose workflow never started (the process died right after the
commit) are started by the next sweep; the workflow id makes a second start a no-op.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from crazy_gary.auth.models import User
from crazy_gary.db import Database, session_scope, utcnow
from crazy_gary.kit.clock import iso
from crazy_gary.kit.dml import rows_changed
from crazy_gary.kit.ids import new_id
from crazy_gary.realtime.external import ADMIN_EVENT_TYPES
from crazy_gary.realtime.models import OutgoingEvent
from crazy_gary.webhooks import workflows
from crazy_gary.webhooks.models import DeliveryStatus, Webhook, WebhookDelivery

log = logging.getLogger(__name__)

BATCH = 200
POLL_SECONDS = 0.5
SWEEP_SECONDS = 10.0  # a queued delivery this old with no workflow is started again


def message_body(event_type: str, data: dict[str, Any], *, timestamp: str) -> str:
    """The Standard Webhooks JSON body, fixed once: every attempt sends these bytes."""
    return json.dumps({"type": event_type, "timestamp": timestamp, "data": data},
                      separators=(",", ":"), default=str)


def new_delivery(webhook: Webhook, event_type: str, data: dict[str, Any], *,
                 timestamp: str) -> WebhookDelivery:
    now = utcnow()
    return WebhookDelivery(id=new_id("msg"), webhook_id=webhook.id, event=event_type,
                           body=message_body(event_type, data, timestamp=timestamp),
                           status=DeliveryStatus.QUEUED, attempts=0, run=0,
                           created_at=now, next_attempt_at=now)


async def _subscribers(session: AsyncSession, events: list[Any]
                       ) -> list[tuple[Webhook, bool]]:
    """Enabled webhooks that may receive some of these events, with their owner's admin
    flag (checked now: a demoted admin's webhook stops receiving admin events)."""
    owners = {e.user_id for e in events if e.user_id is not None}
    wants_admin = any(e.user_id is None and e.type in ADMIN_EVENT_TYPES for e in events)
    query = (select(Webhook, User.role).join(User, User.id == Webhook.user_id)
             .where(Webhook.enabled.is_(True)))
    conditions: list[ColumnElement[bool]] = [Webhook.user_id.in_(owners)] if owners else []
    if wants_admin:
        conditions.append(User.role == "admin")
    if not conditions:
        return []
    rows = await session.execute(query.where(or_(*conditions)).order_by(Webhook.created_at))
    return [(webhook, role == "admin") for webhook, role in rows.tuples()]


def _receives(webhook: Webhook, is_admin: bool, event: Any) -> bool:
    if event.type not in webhook.events:
        return False
    if event.user_id is None:
        return is_admin and event.type in ADMIN_EVENT_TYPES
    return bool(event.user_id == webhook.user_id)


async def dispatch_pending(database: Database) -> int:
    """Claim outgoing events and turn them into started deliveries; how many deliveries."""
    total = 0
    while True:
        async with session_scope(database) as session:
            ids = list(await session.scalars(
                select(OutgoingEvent.id).order_by(OutgoingEvent.id).limit(BATCH)))
            if not ids:
                return total
            # Conditional: a row another process claimed first is gone and not returned.
            claimed = (await session.execute(
                delete(OutgoingEvent).where(OutgoingEvent.id.in_(ids))
                .returning(OutgoingEvent.id, OutgoingEvent.type, OutgoingEvent.user_id,
                           OutgoingEvent.data, OutgoingEvent.created_at)
                .execution_options(synchronize_session=False))).all()
            events = sorted(claimed, key=lambda row: row.id)
            created: list[str] = []
            for webhook, is_admin in (await _subscribers(session, events) if events else []):
                for event in events:
                    if _receives(webhook, is_admin, event):
                        delivery = new_delivery(webhook, event.type, event.data,
                                                timestamp=iso(event.created_at))
                        session.add(delivery)
                        created.append(delivery.id)
        for delivery_id in created:
            await workflows.start(delivery_id, 0)
        total += len(created)
        if len(ids) < BATCH:
            return total


async def start_stranded(database: Database) -> int:
    """Start the workflows of queued deliveries (new or redelivered) that were due a while
    ago: their starter may have died between its commit and the start."""
    cutoff = utcnow() - timedelta(seconds=SWEEP_SECONDS)
    async with session_scope(database) as session:
        stranded = (await session.execute(
            select(WebhookDelivery.id, WebhookDelivery.run)
            .where(WebhookDelivery.status == DeliveryStatus.QUEUED,
                   WebhookDelivery.next_attempt_at < cutoff)
            .limit(BATCH))).all()
    for delivery_id, run in stranded:
        await workflows.start(delivery_id, run)
    return len(stranded)


async def prune_finished(database: Database, *, older_than: datetime) -> int:
    """Drop finished deliveries past the event retention horizon."""
    async with session_scope(database) as session:
        return await rows_changed(session, delete(WebhookDelivery).where(
            WebhookDelivery.status.in_((DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED)),
            WebhookDelivery.created_at < older_than))


class Dispatcher:
    """Each process polls for promised events; the claim keeps them from doubling up."""

    def __init__(self, database: Database, *, retention_days: int,
                 taking_work: Callable[[], bool] = lambda: True) -> None:
        self.database = database
        self.retention = timedelta(days=retention_days)
        # False once the process drains: it claims no more events (a survivor does)
        self.taking_work = taking_work
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="webhook-dispatcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_sweep = loop.time()
        while True:
            if not self.taking_work():
                await asyncio.sleep(POLL_SECONDS)
                continue
            try:
                await dispatch_pending(self.database)
                if loop.time() >= next_sweep:
                    next_sweep = loop.time() + SWEEP_SECONDS
                    await start_stranded(self.database)
                    await prune_finished(self.database, older_than=utcnow() - self.retention)
            except Exception as exc:  # database unavailable: try again next tick
                log.warning("webhook dispatch failed: %s", exc)
            await asyncio.sleep(POLL_SECONDS)
