"""Typed exceptions for the API's error format (`error`, `code`, `details`, `request_id`).

One class per family of contract codes, all under `ApiError`; `error_for` picks the class
by code first and by HTTP status when the code is one this client does not know.
"""

from __future__ import annotations

from typing import Any


class CrazyGaryError(Exception):
    """Base of everything this client raises."""


class ApiError(CrazyGaryError):
    """The server answered with an error in the contract's format."""

    codes: tuple[str, ...] = ()
    status: int | None = None

    def __init__(self, message: str, *, code: str, status_code: int,
                 details: dict[str, Any] | None = None, request_id: str | None = None,
                 body: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status_code = status_code
        self.details = details or {}
        self.request_id = request_id
        self.body = body or {}

    def __str__(self) -> str:
        rid = f", request {self.request_id}" if self.request_id else ""
        return f"{self.message} ({self.code}, HTTP {self.status_code}{rid})"


class ValidationError(ApiError):
    codes = ("VALIDATION_ERROR",)
    status = 400

    @property
    def problems(self) -> list[str]:
        return list(self.details.get("validation_errors", []))


class AuthenticationError(ApiError):
    codes = ("AUTH_REQUIRED", "TOKEN_EXPIRED", "INVALID_CREDENTIALS")
    status = 401


class PermissionDenied(ApiError):
    codes = ("INSUFFICIENT_PERMISSIONS",)
    status = 403


class NotFoundError(ApiError):
    codes = ("NOT_FOUND", "TASK_NOT_FOUND")
    status = 404


class ConflictError(ApiError):
    codes = ("CONFLICT", "USER_EXISTS")
    status = 409


class PayloadTooLarge(ApiError):
    codes = ("PAYLOAD_TOO_LARGE", "LENGTH_REQUIRED")
    status = 413


class RateLimited(ApiError):
    codes: tuple[str, ...] = ("RATE_LIMIT_EXCEEDED",)
    status = 429

    @property
    def retry_after(self) -> float | None:
        value = self.body.get("retry_after", self.details.get("retry_after"))
        return float(value) if value is not None else None


class QuotaExceeded(RateLimited):
    """A monthly usage limit is used up (429 QUOTA_EXCEEDED; never retried): `details`
    says which limit, `used`, `limit` and `resets_at`."""

    codes: tuple[str, ...] = ()  # matched by code and status: BY_CODE_AND_STATUS


class ServiceUnavailable(ApiError):
    codes = ("SERVICE_UNAVAILABLE", "ENDPOINT_UNAVAILABLE")
    status = 503


class TaskFailed(ApiError):
    """A task or chat turn ended with one of the agent's failure codes."""

    codes = ("MAX_STEPS_EXCEEDED", "TOKEN_BUDGET_EXCEEDED", "TASK_TIMEOUT", "CHAT_TIMEOUT",
             "MODEL_ERROR")


class ServerError(ApiError):
    codes = ("INTERNAL_ERROR",)
    status = 500


class TransportError(CrazyGaryError):
    """The server could not be reached, or the connection broke (after any retries)."""


class Timeout(TransportError):
    """No answer within the configured timeout."""


FAMILIES: tuple[type[ApiError], ...] = (
    ValidationError, AuthenticationError, PermissionDenied, NotFoundError, ConflictError,
    PayloadTooLarge, RateLimited, ServiceUnavailable, TaskFailed, ServerError,
)
BY_CODE = {code: cls for cls in FAMILIES for code in cls.codes}
BY_STATUS = {cls.status: cls for cls in FAMILIES if cls.status is not None}
# QUOTA_EXCEEDED is the workspace quota with 413 (PayloadTooLarge), the usage quota with 429
BY_CODE_AND_STATUS: dict[tuple[str, int], type[ApiError]] = {
    ("QUOTA_EXCEEDED", 429): QuotaExceeded}


def error_for(status_code: int, body: Any, request_id: str | None) -> ApiError:
    """The exception for an error response (a body outside the format still gives one)."""
    if not isinstance(body, dict):
        body = {}
    code = str(body.get("code") or f"HTTP_{status_code}")
    cls = (BY_CODE_AND_STATUS.get((code, status_code)) or BY_CODE.get(code)
           or BY_STATUS.get(status_code))
    if cls is None:
        cls = ServerError if status_code >= 500 else ApiError
    message = str(body.get("error") or body.get("message") or f"HTTP {status_code}")
    details = body.get("details") if isinstance(body.get("details"), dict) else {}
    return cls(message, code=code, status_code=status_code, details=details,
               request_id=body.get("request_id") or request_id, body=body)
