"""The contract's error body, built in one place. It lives in kit (the bottom layer) so the
middleware here can answer in the format without importing the error hierarchy above it
(`crazy_gary.errors`, which renders its exceptions with it)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from crazy_gary.kit.clock import iso_now


def error_body(
    request: Request | None,
    *,
    message: str,
    code: str,
    details: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "error": message,
        "code": code,
        "details": details or {},
        "timestamp": iso_now(),
        "request_id": request_id_of(request),
    }
    if extra:
        body.update(extra)
    return body


def request_id_of(request: Request | None) -> str | None:
    if request is None:
        return None
    request_id: str | None = request.scope.get("state", {}).get("request_id")
    return request_id
