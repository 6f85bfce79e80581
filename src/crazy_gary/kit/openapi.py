"""OpenAPI descriptions of the contract's error responses.

Most error statuses follow from what a route is made of, so they are derived once (in
`crazy_gary.api_schema`, which reads the auth and rate-limit packages above kit) rather
than listed on every route: 400 where it takes parameters or a body, 401 where it needs a
signed-in user, 403 where it needs an administrator, 404 where its path names a resource,
413 where it takes a body, 429 where a rate-limit group applies, 500 everywhere.
Statuses a route's own logic produces (409, 503, ...) are listed on the route with
`error_responses(...)`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

DESCRIPTIONS = {
    400: "Invalid request data (VALIDATION_ERROR)",
    401: "Authentication required (AUTH_REQUIRED, TOKEN_EXPIRED, INVALID_CREDENTIALS)",
    403: "Insufficient permissions (INSUFFICIENT_PERMISSIONS)",
    404: "Resource not found",
    409: "Conflict with the current state",
    411: "Content-Length required (LENGTH_REQUIRED)",
    413: "Request body too large (PAYLOAD_TOO_LARGE)",
    429: "Rate limit exceeded (RATE_LIMIT_EXCEEDED)",
    500: "Unexpected error (INTERNAL_ERROR)",
    503: "A dependency is unavailable",
}
ERROR_REF = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
# One event of a `text/event-stream` response (the unit schema checkers validate).
SSE_EVENT = {"type": "object", "description": "One Server-Sent Event",
             "properties": {"event": {"type": "string"}, "data": {"type": "string"},
                            "id": {"type": "string"}, "retry": {"type": "integer"}}}


class ErrorResponse(BaseModel):
    error: str
    code: str
    details: dict[str, Any] = {}
    timestamp: str
    request_id: str | None = None


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each listed status documented with the error schema."""
    return {code: {"model": ErrorResponse, "description": DESCRIPTIONS[code]} for code in codes}
