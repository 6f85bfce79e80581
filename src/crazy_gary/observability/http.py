"""Outgoing HTTP spans: model calls (the openai SDK), HF API and MCP-over-HTTP all go
through httpx, so one hook on `httpx.AsyncClient.send` traces them inside any trace."""

from __future__ import annotations

import json
from typing import Any

import httpx
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from crazy_gary.observability.tracing import tracer

_original_send = httpx.AsyncClient.send
MODEL_PATHS = ("/chat/completions", "/completions")


def _model_of(request: httpx.Request) -> str | None:
    try:
        if len(request.content) < 5_000_000:
            model = json.loads(request.content).get("model")
            return model if isinstance(model, str) else None
    except Exception:  # streamed or not JSON: the span simply carries no model
        return None
    return None


async def _traced_send(self: httpx.AsyncClient, request: httpx.Request, *args: Any,
                       **kwargs: Any) -> httpx.Response:
    if not trace.get_current_span().is_recording():
        return await _original_send(self, request, *args, **kwargs)
    is_model = request.url.path.endswith(MODEL_PATHS)
    attributes = {"http.request.method": request.method, "server.address": request.url.host,
                  "url.path": request.url.path}
    if is_model:
        model = _model_of(request)
        if model:
            attributes["model"] = model
    name = "model.chat" if is_model else f"http.client {request.method} {request.url.host}"
    with tracer.start_as_current_span(name, kind=SpanKind.CLIENT, attributes=attributes,
                                      record_exception=False) as span:
        try:
            response = await _original_send(self, request, *args, **kwargs)
        except Exception as exc:
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise
        span.set_attribute("http.response.status_code", response.status_code)
        if response.status_code >= 500:
            span.set_status(Status(StatusCode.ERROR))
        return response


def instrument_httpx() -> None:
    """Idempotent."""
    if httpx.AsyncClient.send is not _traced_send:
        # Patching the class is the point: the SDKs build their own clients, so no per-client
        # hook reaches them; mypy forbids assigning to a method.
        httpx.AsyncClient.send = _traced_send  # type: ignore[method-assign]
