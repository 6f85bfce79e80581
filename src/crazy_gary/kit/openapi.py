"""OpenAPI descriptions of the contract's error responses."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

DESCRIPTIONS = {
    400: "Invalid request data (VALIDATION_ERROR)",
    401: "Authentication required (AUTH_REQUIRED, TOKEN_EXPIRED, INVALID_CREDENTIALS)",
    403: "Insufficient permissions (INSUFFICIENT_PERMISSIONS)",
    404: "Resource not found",
    409: "Conflict with the current state",
    413: "Request body too large",
    429: "Rate limit exceeded (RATE_LIMIT_EXCEEDED)",
    503: "A dependency is unavailable",
}


class ErrorResponse(BaseModel):
    error: str
    code: str
    details: dict[str, Any] = {}
    timestamp: str
    request_id: str | None = None


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each listed status documented with the error schema."""
    return {code: {"model": ErrorResponse, "description": DESCRIPTIONS[code]} for code in codes}
