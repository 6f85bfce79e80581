"""In-process fan-out: every subscriber (an SSE stream) gets its own bounded buffer."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from crazy_gary.kit import sse

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

    @cached_property
    def sse_frame(self) -> bytes:
        """The SSE frame, encoded once however many subscribers receive it."""
        return sse.frame({"event": self.event, "data": self.data}, id=self.id)

    def to_wire(self) -> dict[str, Any]:
        return {"id": self.id, "event": self.event, "data": self.data,
                "user_id": self.user_id, "timestamp": self.timestamp}

    @classmethod
    def from_wire(cls, raw: dict[str, Any]) -> PublishedEvent:
        return cls(id=int(raw["id"]), event=raw["event"], data=raw["data"],
                   user_id=raw.get("user_id"), timestamp=raw.get("timestamp"))


class Subscription:
    """A subscriber's buffer. When it overflows the subscriber is cut off (it then
    reconnects with Last-Event-ID and replays from the log) rather than silently losing events.

    Waiting costs one future per wake-up; the idle (heartbeat) deadline is one timer per idle
    period that re-arms itself, not a timer per event.
    """

    def __init__(self, user_id: int | None, maxsize: int) -> None:
        self.user_id = user_id
        self.maxsize = maxsize
        self.items: deque[PublishedEvent] = deque()
        self.overflowed = False
        self.closed = False
        self.parting = False  # the process is leaving: the subscriber should reconnect
        self.loop = asyncio.get_running_loop()
        self._waiter: asyncio.Future[None] | None = None
        self._idle = 0.0
        self._last_output = self.loop.time()
        self._timer: asyncio.TimerHandle | None = None

    def push(self, event: PublishedEvent) -> None:
        """Called on the subscriber's loop."""
        if self.overflowed or self.closed:
            return
        if len(self.items) >= self.maxsize:
            self.overflowed = True
            self.items.clear()
        else:
            self.items.append(event)
        self._wake()

    def close(self) -> None:
        """The subscriber went away: wake its reader, which then returns []."""
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._wake()

    def part(self) -> None:
        """The process is leaving: end the stream, telling the subscriber to reconnect."""
        self.parting = True
        self.close()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _on_timer(self) -> None:
        self._timer = None
        if self.closed:
            return
        remaining = self._last_output + self._idle - self.loop.time()
        if remaining > 0.001:
            self._timer = self.loop.call_later(remaining, self._on_timer)
        else:
            self._wake()  # idle long enough: next_batch returns []

    async def next_batch(self, wait: float) -> list[PublishedEvent]:
        """What arrived, or [] once `wait` seconds passed with nothing returned (time for a
        heartbeat), on overflow, or when closed."""
        self._idle = wait
        if not self.items and not self.overflowed and not self.closed:
            if self._timer is None:
                self._timer = self.loop.call_at(self._last_output + wait, self._on_timer)
            self._waiter = self.loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        self._last_output = self.loop.time()
        if not self.items:
            return []
        batch = list(self.items)
        self.items.clear()
        return batch


class LocalBroker:
    """Hands each event to the subscriptions that may see it."""

    def __init__(self) -> None:
        self.subscriptions: set[Subscription] = set()

    def subscribe(self, user_id: int | None, maxsize: int = 2000) -> Subscription:
        sub = Subscription(user_id, maxsize)
        self.subscriptions.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self.subscriptions.discard(sub)
        sub.close()

    def deliver(self, event: PublishedEvent) -> None:
        try:
            current = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        for sub in list(self.subscriptions):
            if sub.user_id is not None and not event.visible_to(sub.user_id):
                continue
            if sub.loop is current:
                sub.push(event)
            else:  # published from another thread's loop
                sub.loop.call_soon_threadsafe(sub.push, event)

    def part_all(self) -> None:
        """The process is leaving: every subscriber is told to reconnect (elsewhere)."""
        for sub in list(self.subscriptions):
            if sub.loop is asyncio.get_running_loop():
                sub.part()
            else:
                sub.loop.call_soon_threadsafe(sub.part)

    def __len__(self) -> int:
        return len(self.subscriptions)

