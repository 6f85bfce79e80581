"""Text no database can store is refused before any route runs: NUL (U+0000) anywhere in a
JSON body (keys and values, at any depth), in the query string or in the path, and lone
surrogates in a JSON body, with 400 VALIDATION_ERROR naming the field.

Cheap by construction: the query string and path are searched for one byte sequence; a JSON
body is searched for the escapes `\\u0000` and `\\ud8..`-`\\udf..` and is parsed and walked only
when one is there (an escaped backslash before `u0000` is plain text and passes).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crazy_gary.kit.error_format import error_body
from crazy_gary.kit.middleware import send_error
from crazy_gary.kit.text import storable

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_SUSPECT = re.compile(rb"\\u(?:0000|[dD][89abcdefABCDEF])|\x00")


def _is_json(content_type: bytes | None) -> bool:
    """FastAPI parses a body as JSON without a content type, or with application/json or
    application/*+json."""
    if not content_type:
        return True
    kind = content_type.split(b";", 1)[0].strip().lower()
    return kind == b"application/json" or (kind.startswith(b"application/")
                                            and kind.endswith(b"+json"))


def _problems(value: Any, where: str) -> list[str]:
    """`field: problem` for every string (key or value) under `value` that cannot be stored."""
    found: list[str] = []
    if isinstance(value, str):
        try:
            storable(value)
        except ValueError as exc:
            found.append(f"{where or 'body'}: {exc}")
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{where}.{key}" if where else key
            try:
                storable(key)
            except ValueError as exc:
                shown = name.replace("\x00", "\\u0000").encode("utf-8", "backslashreplace")
                found.append(f"{shown.decode()}: key {exc}")
                continue
            found.extend(_problems(item, name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_problems(item, f"{where}.{index}" if where else str(index)))
    return found


def body_problems(body: bytes) -> list[str]:
    if not _SUSPECT.search(body):
        return []
    try:
        return _problems(json.loads(body), "")
    except ValueError:
        return []  # not JSON: the route's own parsing answers "Malformed JSON body"
    except RecursionError:
        return ["body: nested too deeply"]


def query_problems(query: bytes) -> list[str]:
    if b"%00" not in query and b"\x00" not in query:
        return []
    found = []
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            shown = name.replace("\x00", "\\u0000")
            found.append(f"query.{shown}: must not contain NUL characters")
    return found


class NulGuardMiddleware:
    """`max_bytes` bounds what is read ahead of the route (the body-size cap, which routes
    with their own larger limit are exempt from); a longer body streams on unscanned."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problems = query_problems(scope.get("query_string", b""))
        if "\x00" in scope.get("path", ""):
            problems.append("path: must not contain NUL characters")
        if not problems and scope["method"] in _BODY_METHODS:
            content_type = dict(scope.get("headers") or ()).get(b"content-type")
            if _is_json(content_type):
                body, receive = await _read_ahead(receive, self.max_bytes)
                if body is not None:
                    problems = body_problems(body)
        if problems:
            await _refuse(scope, send, problems)
            return
        await self.app(scope, receive, send)


async def _read_ahead(receive: Receive, limit: int) -> tuple[bytes | None, Receive]:
    """The whole request body (None if longer than `limit` or cut off), and a `receive`
    that hands on what was read, then the rest."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":  # the client went away
            return None, _replay(messages, receive)
        size += len(message.get("body", b""))
        if size > limit:
            return None, _replay(messages, receive)
        if not message.get("more_body", False):
            break
    body = b"".join(m.get("body", b"") for m in messages)
    return body, _replay([{"type": "http.request", "body": body, "more_body": False}], receive)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    async def replayed() -> Message:
        if messages:
            return messages.pop(0)
        return await receive()

    return replayed


async def _refuse(scope: Scope, send: Send, problems: list[str]) -> None:
    body = error_body(None, message=problems[0] if len(problems) == 1
                      else "Request data validation failed",
                      code="VALIDATION_ERROR", details={"validation_errors": problems})
    body["request_id"] = scope.get("state", {}).get("request_id")
    await send_error(send, 400, body)
