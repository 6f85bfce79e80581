"""Pure-ASGI middleware: request ids and the body-size cap."""

from __future__ import annotations

import itertools
import json
import logging
import re
import uuid
from collections.abc import Iterable
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crazy_gary.kit.error_format import error_body

# Unhandled errors are reported under the errors module's logger, like every other error.
log = logging.getLogger("crazy_gary.errors")
# A caller's id is echoed only when it is short and plain (no header or log injection).
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


async def send_error(send: Send, status: int, body: dict[str, Any],
                     extra_headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
    """Send a whole JSON error response from middleware."""
    payload = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(payload)).encode()),
                            *extra_headers]})
    await send({"type": "http.response.body", "body": payload})


class RequestIdMiddleware:
    """Give every request an id (or keep the caller's) and echo it in X-Request-ID.

    It is also the last line of defence: an exception nothing else handled becomes a
    plain 500 in the contract's format (with the id), never a stack trace.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # Generated ids: a random per-app prefix and a counter (unique without a system
        # call per request; an id only has to tell requests apart, not be secret).
        self._id_prefix = f"req_{uuid.uuid4().hex[:16]}"
        self._id_counter = itertools.count(1)

    def new_request_id(self) -> str:
        return f"{self._id_prefix}{next(self._id_counter):016x}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or ()).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _SAFE_ID.match(incoming) else self.new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        raw_id = request_id.encode("latin-1")
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers") or [])
                headers.append((b"x-request-id", raw_id))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            body = error_body(None, message="Internal server error", code="INTERNAL_ERROR")
            body["request_id"] = request_id
            await send_error(send_with_id, 500, body)


class BodySizeLimitMiddleware:
    """Refuse bodies over the cap with 413 in the contract's error format."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._exempt(scope):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(scope, send)
            return
        received = 0
        started = False

        async def guarded_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, guarded_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._reject(scope, send)

    @staticmethod
    def _exempt(scope: Scope) -> bool:
        # Workspace uploads carry their own, larger limit.
        path: str = scope.get("path", "")
        return path.startswith("/api/workspace")

    async def _reject(self, scope: Scope, send: Send) -> None:
        body = error_body(
            None,
            message=f"Request body larger than {self.max_bytes} bytes",
            code="PAYLOAD_TOO_LARGE",
        )
        body["request_id"] = scope.get("state", {}).get("request_id")
        await send_error(send, 413, body)


class _TooLarge(HTTPException):
    """Raised from `receive`; an HTTPException so FastAPI's body parsing lets it through."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"Request body larger than {max_bytes} bytes")
