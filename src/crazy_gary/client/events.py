"""The live event stream: one subscription that survives dropped connections.

A subscription is connected once `open()` returns (the server has registered it), so an
action taken afterwards cannot produce an event the subscription misses. When the
connection drops, it reconnects with `Last-Event-ID` = the last id it delivered: the
server replays what came in between, and ids already delivered are never repeated.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from crazy_gary.client import sse
from crazy_gary.client.core import Core
from crazy_gary.client.errors import ApiError, CrazyGaryError, TransportError
from crazy_gary.client.models import Event

STREAM_PATH = "/api/observability/events/stream"
BROKEN = (httpx.HTTPError, httpx.StreamError, TransportError, json.JSONDecodeError)


class Subscription:
    """Iterate it for `Event`s; use it as an async context manager (or call `open`)."""

    def __init__(self, core: Core, *, last_event_id: int | None = None,
                 reconnect_delay: float = 0.25, max_reconnects: int = 20,
                 read_timeout: float = 45.0) -> None:
        self._core = core
        self.last_event_id = last_event_id
        self.reconnect_delay = reconnect_delay
        self.max_reconnects = max_reconnects
        self.read_timeout = read_timeout
        self.connections = 0
        self.response: httpx.Response | None = None
        self._stream: Any = None
        self._frames: AsyncIterator[sse.Frame] | None = None
        self._closed = False

    async def __aenter__(self) -> Subscription:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def open(self) -> None:
        """Connect and return once the server has registered the subscription."""
        headers = {"Accept": "text/event-stream"}
        if self.last_event_id is not None:
            headers["Last-Event-ID"] = str(self.last_event_id)
        timeout = httpx.Timeout(self._core.timeout, read=self.read_timeout)
        self._stream = self._core.stream("GET", STREAM_PATH, headers=headers, timeout=timeout)
        self.response = await self._stream.__aenter__()
        self._frames = sse.frames(self.response.aiter_lines())
        async for frame in self._frames:
            if frame.comment == "connected":
                break
        self.connections += 1

    async def close(self) -> None:
        self._closed = True
        await self._drop()

    async def _drop(self) -> None:
        stream, self._stream, self._frames = self._stream, None, None
        if stream is not None:
            try:
                await stream.__aexit__(None, None, None)
            except BROKEN:
                pass

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._events()

    async def _events(self) -> AsyncIterator[Event]:
        while not self._closed:
            try:
                if self._frames is None:
                    await self._reconnect()
                assert self._frames is not None
                async for frame in self._frames:
                    event = self._event_of(frame)
                    if event is not None:
                        yield event
            except BROKEN:
                pass  # the connection broke: reconnect below
            if self._closed:
                return
            await self._drop()

    def _event_of(self, frame: sse.Frame) -> Event | None:
        if frame.data is None:
            return None
        event_id = int(frame.id) if frame.id and frame.id.isdigit() else None
        if event_id is not None and self.last_event_id is not None and (
                event_id <= self.last_event_id):
            return None  # already delivered
        body = json.loads(frame.data)
        if event_id is not None:
            self.last_event_id = event_id
        return Event(id=event_id or 0, event=str(body.get("event", frame.event)),
                     data=body.get("data") or {})

    async def _reconnect(self) -> None:
        for attempt in range(self.max_reconnects):
            await asyncio.sleep(min(self.reconnect_delay * 2 ** attempt, 5.0))
            try:
                await self.open()
                return
            except ApiError as exc:
                if exc.status_code not in (429, 500, 502, 503, 504):
                    raise
            except BROKEN:
                pass
        raise CrazyGaryError(f"event stream lost: {self.max_reconnects} reconnections failed")


class EventsArea:
    """`subscribe()` to your events and system events, live, replayable by id."""

    def __init__(self, core: Core) -> None:
        self._core = core

    def subscribe(self, *, last_event_id: int | None = None) -> Subscription:
        return Subscription(self._core, last_event_id=last_event_id)
