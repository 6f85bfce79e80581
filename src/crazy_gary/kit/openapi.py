"""OpenAPI descriptions of the contract's error responses.

Most error statuses follow from what a route is made of, so they are derived here once
rather than listed on every route: 400 where it takes parameters or a body, 401 where it
needs a signed-in user, 403 where it needs an administrator, 404 where its path names a
resource, 413 where it takes a body, 429 where a rate-limit group applies, 500 everywhere.
Statuses a route's own logic produces (409, 503, ...) are listed on the route with
`error_responses(...)`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
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


def _dependants(dependant: Dependant) -> list[Dependant]:
    """The route's dependant and every dependency under it."""
    found = [dependant]
    for dep in dependant.dependencies:
        found += _dependants(dep)
    return found


def derived_statuses(route: APIRoute) -> set[int]:
    """The error statuses a route can answer with by what it is made of."""
    from crazy_gary.auth.dependencies import SignedIn
    from crazy_gary.ratelimit.groups import group_of

    dependants = _dependants(route.dependant)
    codes = {500}
    if route.body_field is not None:
        codes |= {400, 413}
    if any(d.path_params or d.query_params or d.header_params for d in dependants):
        codes.add(400)
    if any(d.path_params for d in dependants):
        codes.add(404)
    sign_ins = [d.call for d in dependants if isinstance(d.call, SignedIn)]
    if sign_ins:
        codes.add(401)
    if any(s.admin for s in sign_ins):
        codes.add(403)
    if group_of(route.path_format) is not None:
        codes.add(429)
    return codes


def api_routes(app: FastAPI) -> list[Any]:
    """The app's FastAPI routes as the schema sees them (included routers resolved: newer
    FastAPI keeps them lazily as route contexts, which read like an APIRoute)."""
    from fastapi import routing

    iterate = getattr(routing, "iter_route_contexts", None)
    candidates = iterate(app.routes) if iterate is not None else app.routes
    return [r for r in candidates
            if isinstance(getattr(r, "original_route", r), routing.APIRoute)]


def install_openapi(app: FastAPI) -> None:
    """Describe errors as they really are: 400 VALIDATION_ERROR (never 422), and every
    derived status in the contract's format on every operation."""
    from fastapi.openapi.utils import get_openapi

    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version,
                             description=app.description, routes=app.routes)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["ErrorResponse"] = ErrorResponse.model_json_schema()
        paths = schema.get("paths", {})
        for route in api_routes(app):
            if not route.include_in_schema:
                continue
            for method in route.methods or ():
                operation = paths.get(route.path_format, {}).get(method.lower())
                if operation is None:
                    continue
                responses = operation["responses"]
                responses.pop("422", None)
                for response in responses.values():
                    for media_type, media in response.get("content", {}).items():
                        media.setdefault("schema", SSE_EVENT if media_type == "text/event-stream"
                                         else {"type": "string"})
                for code in sorted(derived_statuses(route)):
                    responses.setdefault(str(code), {"description": DESCRIPTIONS[code],
                                                     "content": ERROR_REF})
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        app.openapi_schema = schema
        return schema

    app.openapi = build  # type: ignore[method-assign]  # FastAPI's documented override hook
