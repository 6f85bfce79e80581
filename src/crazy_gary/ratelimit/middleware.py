"""Rate-limit middleware: one place, so no route can forget its limit."""

from __future__ import annotations

import json
import logging
import math
import time

from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import StorageTypes, storage_from_string
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crazy_gary.auth.api_keys import KeyOwners, is_api_key, request_credential
from crazy_gary.auth.tokens import peek_user_id
from crazy_gary.auth.validation import normalize_email
from crazy_gary.config import Settings
from crazy_gary.kit.error_format import error_body
from crazy_gary.ratelimit.groups import (
    BY_ADDRESS_PATHS,
    LOGIN_PATH,
    USERS_PREFIX,
    group_of,
    limit_of,
)

log = logging.getLogger(__name__)


def make_storage(settings: Settings) -> StorageTypes:
    """Memory when embedded; Redis when REDIS_URL is set, so processes share one limit."""
    if settings.redis_url:
        url = settings.redis_url.replace("redis://", "async+redis://", 1).replace(
            "rediss://", "async+rediss://", 1
        )
        return storage_from_string(
            url, implementation="redispy", key_prefix=f"{settings.redis_namespace}:ratelimit"
        )
    return storage_from_string("async+memory://")


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.limiter = MovingWindowRateLimiter(make_storage(settings))
        self.items = {
            group: parse(limit_of(settings, group))
            for group in ("auth", "general", "endpoints", "monitoring")
        }
        self.key_owners = KeyOwners()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        group = group_of(scope.get("path", "")) if scope["type"] == "http" else None
        if group is None or not self.settings.rate_limits_enabled:
            await self.app(scope, receive, send)
            return
        path, method = scope.get("path", ""), scope.get("method")
        email = None
        if path == LOGIN_PATH and method == "POST":
            body, receive = await _buffered(receive)
            email = _field_of(body, "email")
        elif method == "PUT" and path.startswith(USERS_PREFIX):
            body, receive = await _buffered(receive)
            if _field_of(body, "current_password") is not None:
                group = "auth"  # it checks a password: the password-guessing budget
        item = self.items[group]
        keys = [await self._client_key(scope, path)]
        if email is not None and (normalized := normalize_email(email)[0]):
            keys.append(f"email:{normalized}")  # an invalid email names no account
        try:
            allowed, reset_at, remaining = await self._count(item, group, keys)
        except Exception:  # the limiter's store is down: serve rather than fail closed
            log.warning("rate-limit storage unavailable; request not counted", exc_info=True)
            await self.app(scope, receive, send)
            return
        window = item.get_expiry()
        headers = [
            (b"x-ratelimit-limit", str(item.amount).encode()),
            (b"x-ratelimit-remaining", str(max(0, remaining)).encode()),
            (b"x-ratelimit-reset", str(math.ceil(reset_at)).encode()),
            (b"x-ratelimit-window", str(window).encode()),
        ]
        if not allowed:
            retry_after = max(1, math.ceil(reset_at - time.time()))
            await self._reject(scope, send, headers, retry_after)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers") or []) + headers
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _count(self, item: RateLimitItem, group: str, keys: list[str]
                     ) -> tuple[bool, float, int]:
        """Count the request against each key's budget in turn, stopping at one that refuses
        it: whether it is allowed, with the reset time and remaining requests of the
        budget that refused it, else of the tightest one."""
        tightest: tuple[bool, float, int] | None = None
        for key in keys:
            allowed = await self.limiter.hit(item, group, key)
            reset_at, remaining = await self.limiter.get_window_stats(item, group, key)
            if not allowed:
                return False, reset_at, remaining
            if tightest is None or remaining < tightest[2]:
                tightest = (True, reset_at, remaining)
        assert tightest is not None
        return tightest

    async def _client_key(self, scope: Scope, path: str) -> str:
        """The user id of a valid access token or of an API key's owner (a key counts in its
        owner's budget), except on the credential routes used before sign-in; else the
        client's address (the peer, or what a trusted proxy reported)."""
        if path not in BY_ADDRESS_PATHS:
            headers = dict(scope.get("headers") or ())
            token = request_credential(headers.get(b"authorization", b"").decode("latin-1"),
                                       headers.get(b"x-api-key", b"").decode("latin-1"))
            if token:
                if is_api_key(token):
                    database = scope["app"].state.runtime.database
                    user_id = await self.key_owners.owner_of(database, token)
                else:
                    user_id = peek_user_id(self.settings, token)
                if user_id is not None:
                    return f"user:{user_id}"
        client = scope.get("client")
        return f"ip:{client[0] if client else 'unknown'}"

    async def _reject(self, scope: Scope, send: Send, headers: list[tuple[bytes, bytes]],
                      retry_after: int) -> None:
        body = error_body(None, message="Rate limit exceeded", code="RATE_LIMIT_EXCEEDED",
                          details={"retry_after": retry_after},
                          extra={"retry_after": retry_after})
        body["request_id"] = scope.get("state", {}).get("request_id")
        payload = json.dumps(body).encode()
        await send({
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"retry-after", str(retry_after).encode()),
                *headers,
            ],
        })
        await send({"type": "http.response.body", "body": payload})


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """The whole request body (already capped by the body-size middleware outside this one)
    and a `receive` that hands the same messages to the app."""
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body"):
            break
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")

    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    return body, replay


def _field_of(body: bytes, name: str) -> str | None:
    """A string field of a JSON body, or None (the route answers a malformed body)."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    value = data.get(name) if isinstance(data, dict) else None
    return value if isinstance(value, str) else None
