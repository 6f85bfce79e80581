"""One error hierarchy, rendered in one place in the contract's format."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from crazy_gary.kit.error_format import error_body

log = logging.getLogger(__name__)


class AppError(Exception):
    """Base of every error a client may see."""

    status_code = 500
    code = "INTERNAL_ERROR"
    message = "Internal server error"

    def __init__(
        self,
        message: str | None = None,
        *,
        details: dict[str, Any] | None = None,
        code: str | None = None,
        status_code: int | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.message = message or self.message
        self.details = details or {}
        self.code = code or self.code
        self.status_code = status_code or self.status_code
        self.headers = headers or {}
        self.extra = extra or {}
        super().__init__(self.message)


class ValidationFailed(AppError):
    status_code = 400
    code = "VALIDATION_ERROR"
    message = "Request data validation failed"

    def __init__(self, errors: list[str] | str, message: str | None = None, **kwargs: Any) -> None:
        errors = [errors] if isinstance(errors, str) else list(errors)
        details = kwargs.pop("details", None) or {}
        details.setdefault("validation_errors", errors)
        super().__init__(message or (errors[0] if len(errors) == 1 else None), details=details,
                         **kwargs)


class AuthRequired(AppError):
    status_code = 401
    code = "AUTH_REQUIRED"
    message = "Authentication token missing or invalid"


class TokenExpired(AppError):
    status_code = 401
    code = "TOKEN_EXPIRED"
    message = "Access token has expired"


class InvalidCredentials(AppError):
    status_code = 401
    code = "INVALID_CREDENTIALS"
    message = "Email or password incorrect"


class InsufficientPermissions(AppError):
    status_code = 403
    code = "INSUFFICIENT_PERMISSIONS"
    message = "You lack the permissions for this action"


class InsufficientScope(InsufficientPermissions):
    """An API key called a route outside its scopes (`details.required_scope` names it)."""

    code = "INSUFFICIENT_SCOPE"
    message = "The API key lacks the scope this route needs"

    def __init__(self, scope: str, **kwargs: Any) -> None:
        super().__init__(f"This API key lacks the '{scope}' scope",
                         details={"required_scope": scope}, **kwargs)


class NotFound(AppError):
    status_code = 404
    code = "NOT_FOUND"
    message = "Resource not found"


class TaskNotFound(NotFound):
    code = "TASK_NOT_FOUND"
    message = "Task not found"


class ApprovalNotFound(NotFound):
    code = "APPROVAL_NOT_FOUND"
    message = "Approval not found"
class ScheduleNotFound(NotFound):
    code = "SCHEDULE_NOT_FOUND"
    message = "Schedule not found"


class Conflict(AppError):
    status_code = 409
    code = "CONFLICT"
    message = "The request conflicts with the current state"


class UserExists(Conflict):
    code = "USER_EXISTS"
    message = "User already registered"


class PayloadTooLarge(AppError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"
    message = "Request body too large"


class RateLimitExceeded(AppError):
    status_code = 429
    code = "RATE_LIMIT_EXCEEDED"
    message = "Rate limit exceeded"


class UsageQuotaExceeded(AppError):
    """A monthly usage limit is reached (the workspace quota uses the same code with 413)."""

    status_code = 429
    code = "QUOTA_EXCEEDED"
    message = "Monthly usage quota exceeded"


class ServiceUnavailable(AppError):
    status_code = 503
    code = "SERVICE_UNAVAILABLE"
    message = "Service unavailable"


DATABASE_RETRY_AFTER_SECONDS = 2


class DatabaseUnavailable(ServiceUnavailable):
    message = "The database is not accepting work right now; try again shortly"

    def __init__(self) -> None:
        super().__init__(headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)})


# PostgreSQL SQLSTATEs meaning "not now" and "nothing was written": a connection refused or
# not possible yet, insufficient resources (too many connections, disk or memory full).
# A connection lost mid-request is not among them: its transaction may have committed.
_UNAVAILABLE_SQLSTATES = ("08001", "08004", "53", "57P03")
_SQLITE_BUSY = ("database is locked", "database table is locked")


def database_unavailable(exc: BaseException) -> bool:
    """Whether a database error is the database refusing work for now, before anything was
    written (no pooled connection free in time, a connection refused, a locked SQLite file),
    so the same request may simply be sent again; anything else is a fault."""
    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if isinstance(state, str):
        return state.startswith(_UNAVAILABLE_SQLSTATES)
    if isinstance(exc, OperationalError) and type(exc.orig).__module__.startswith("psycopg"):
        # psycopg reports a refused connection without a SQLSTATE
        return str(exc.orig).startswith("connection failed:")
    return str(exc.orig).strip() in _SQLITE_BUSY


class EndpointUnavailable(ServiceUnavailable):
    code = "ENDPOINT_UNAVAILABLE"
    message = "Model endpoint not available"


def render(request: Request, exc: AppError) -> JSONResponse:
    return JSONResponse(
        error_body(request, message=exc.message, code=exc.code, details=exc.details,
                   extra=exc.extra),
        status_code=exc.status_code,
        headers=exc.headers,
    )


def _describe_validation_error(err: dict[str, Any]) -> str:
    loc = [str(part) for part in err.get("loc", ()) if part not in ("body",)]
    where = ".".join(loc)
    msg = err.get("msg", "invalid")
    if err.get("type") == "json_invalid":
        return "Malformed JSON body"
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    return f"{where}: {msg}" if where else msg


HTTP_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at the request's path (the router answers 405 from
    the first route whose path matches, naming that route's methods only). Asked through
    each route's own `matches`, so routers included in routers are covered too."""
    routes = request.app.router.routes
    return [method for method in HTTP_METHODS
            if any(route.matches({**request.scope, "method": method})[0] is Match.FULL
                   for route in routes)]


def install_error_handlers(app: FastAPI) -> None:
    """Render every error, expected or not, in the contract's format."""

    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> JSONResponse:
        return render(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [_describe_validation_error(e) for e in exc.errors()]
        return render(request, ValidationFailed(errors, message="Request data validation failed"))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE"}
        code = codes.get(exc.status_code, "HTTP_ERROR")
        message = {404: "Resource not found", 405: "Method not allowed"}.get(
            exc.status_code, str(exc.detail)
        )
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request)) or headers.get("Allow", "")
        return render(request, AppError(message, code=code, status_code=exc.status_code,
                                        headers=headers))

    @app.exception_handler(SQLAlchemyError)
    async def _database(request: Request, exc: SQLAlchemyError) -> JSONResponse:
        if not database_unavailable(exc):
            return await _unexpected(request, exc)
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path,
                    str(exc).splitlines()[0][:300])
        return render(request, DatabaseUnavailable())

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return render(request, AppError())
