"""The served OpenAPI schema: every operation's error statuses derived from what its route
is made of (sign-in, administrator, parameters, body, rate-limit group), in the contract's
error format. It reads the auth and rate-limit packages, so it lives above them, beside the
app; the descriptions and the error schema it uses are in `crazy_gary.kit.openapi`."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from crazy_gary.auth.dependencies import SignedIn
from crazy_gary.kit.openapi import DESCRIPTIONS, ERROR_REF, SSE_EVENT, ErrorResponse
from crazy_gary.ratelimit.groups import group_of


def _dependants(dependant: Dependant) -> list[Dependant]:
    """The route's dependant and every dependency under it."""
    found = [dependant]
    for dep in dependant.dependencies:
        found += _dependants(dep)
    return found


def derived_statuses(route: APIRoute) -> set[int]:
    """The error statuses a route can answer with by what it is made of."""
    dependants = _dependants(route.dependant)
    codes = {500}
    if route.body_field is not None:
        codes |= {400, 413}
    if any(d.path_params or d.query_params or d.header_params for d in dependants):
        codes.add(400)
    if any(d.path_params for d in dependants):
        codes.add(404)
    sign_ins = [d.call for d in dependants if isinstance(d.call, SignedIn)]
    if sign_ins:  # 403 also for an API key outside its scopes (auth.scopes)
        codes |= {401, 403}
    if group_of(route.path_format) is not None:
        codes.add(429)
    return codes


def api_routes(app: FastAPI) -> list[Any]:
    """The app's FastAPI routes as the schema sees them (included routers resolved: newer
    FastAPI keeps them lazily as route contexts)."""
    iterate = getattr(routing, "iter_route_contexts", None)
    candidates = iterate(app.routes) if iterate is not None else app.routes
    return [r for r in candidates
            if isinstance(getattr(r, "original_route", r), routing.APIRoute)]


def install_openapi(app: FastAPI) -> None:
    """Describe errors as they really are: 400 VALIDATION_ERROR (never 422), and every
    derived status in the contract's format on every operation."""
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
