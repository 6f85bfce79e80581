"""Server-Sent Events: the one response type and frame format every stream uses.

`SSEResponse` writes frames straight to ASGI `send` (no StreamingResponse task group
per stream) and watches `receive` for the client's disconnect. Given an async iterator
of frames it sends them with a keep-alive comment when the source is quiet, and on a
disconnect cancels the iterator (its `finally` runs). The event stream subclasses it
and writes from its subscription instead (`stream`, `disconnected`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
PING = b": ping\n\n"
KEEPALIVE_SECONDS = 15.0


def frame(data: Any, *, event: str | None = None, id: int | str | None = None) -> bytes:
    """One event: `id:`, `event:` then `data:` (JSON, or a string sent as it is)."""
    text = data if isinstance(data, str) else json.dumps(data, default=str)
    lines = [] if id is None else [f"id: {id}"]
    if event is not None:
        lines.append(f"event: {event}")
    lines.extend(f"data: {line}" for line in text.splitlines() or [""])
    return ("\n".join(lines) + "\n\n").encode()


class SSEResponse(Response):
    """A `text/event-stream` response; see the module docstring."""

    media_type = "text/event-stream"

    def __init__(self, frames: AsyncIterator[bytes] | None = None, *,
                 preamble: bytes = b"", keepalive: float = KEEPALIVE_SECONDS) -> None:
        self.frames = frames
        self.preamble = preamble
        self.keepalive = keepalive
        self.status_code = 200
        self.background = None
        self._next: asyncio.Future[bytes] | None = None
        self.init_headers(HEADERS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.opened()
        watcher = asyncio.ensure_future(self._watch(receive))
        try:
            await send({"type": "http.response.start", "status": 200,
                        "headers": self.raw_headers})
            if self.preamble:
                await send({"type": "http.response.body", "body": self.preamble,
                            "more_body": True})
            await self.stream(send)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:  # servers on ASGI spec 2.4 report a gone client this way
            pass
        finally:
            watcher.cancel()
            await self.closed()

    async def _watch(self, receive: Receive) -> None:
        try:
            while (await receive())["type"] != "http.disconnect":
                pass
        finally:
            self.disconnected()

    def opened(self) -> None:
        """The stream starts (before anything is sent)."""

    def disconnected(self) -> None:
        """The client went away (also called once the stream ended): stop the source."""
        if self._next is not None and not self._next.done():
            self._next.cancel()

    async def closed(self) -> None:
        """Release what the stream held; the source's own `finally` has run by now."""
        if self._next is not None and not self._next.done():
            self._next.cancel()
            await asyncio.wait({self._next})
        aclose = getattr(self.frames, "aclose", None)
        if aclose is not None:
            await aclose()

    async def stream(self, send: Send) -> None:
        """Send the source's frames, with a keep-alive comment when it is quiet."""
        if self.frames is None:
            return
        frames = aiter(self.frames)
        while True:
            self._next = asyncio.ensure_future(anext(frames))
            while not (await asyncio.wait({self._next}, timeout=self.keepalive))[0]:
                await send({"type": "http.response.body", "body": PING, "more_body": True})
            if self._next.cancelled():  # the client went away
                return
            try:
                chunk = self._next.result()
            except StopAsyncIteration:
                return
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
