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


def install_openapi(app) -> None:
    """Describe errors as they really are: 400 VALIDATION_ERROR (never 422), 500 and 429
    in the contract's format on every operation."""
    from fastapi.openapi.utils import get_openapi

    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version,
                             description=app.description, routes=app.routes)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["ErrorResponse"] = ErrorResponse.model_json_schema()
        ref = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                responses = operation["responses"]
                if responses.pop("422", None) is not None or operation.get("parameters") \
                        or operation.get("requestBody"):
                    responses.setdefault("400", {"description": DESCRIPTIONS[400],
                                                 "content": ref})
                responses.setdefault("500", {"description": "Unexpected error (INTERNAL_ERROR)",
                                             "content": ref})
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        app.openapi_schema = schema
        return schema

    app.openapi = build
