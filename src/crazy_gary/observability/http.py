"""Outgoing HTTP spans. The HF API, MCP over HTTP and webhooks go through httpx, so one
hook on `httpx.AsyncClient.send` traces them inside any trace (`http.client <METHOD>
<host>`); the model client speaks aiohttp (see llm.clients) and opens its `model.chat`
span through `model_call_span`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import httpx
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from crazy_gary.observability.tracing import tracer

_original_send = httpx.AsyncClient.send


async def _traced_send(self: httpx.AsyncClient, request: httpx.Request, *args: Any,
                       **kwargs: Any) -> httpx.Response:
    if not trace.get_current_span().is_recording():
        return await _original_send(self, request, *args, **kwargs)
    attributes = {"http.request.method": request.method, "server.address": request.url.host,
                  "url.path": request.url.path}
    name = f"http.client {request.method} {request.url.host}"
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


@contextmanager
def model_call_span(url: str, method: str, model: str) -> Iterator[trace.Span | None]:
    """A `model.chat` client span around one model request inside a traced operation (None
    outside one); the caller sets `http.response.status_code` on it."""
    if not trace.get_current_span().is_recording():
        yield None
        return
    parts = urlsplit(url)
    with tracer.start_as_current_span("model.chat", kind=SpanKind.CLIENT, attributes={
            "http.request.method": method, "server.address": parts.hostname or "",
            "url.path": parts.path or "/",
            "model": model}, record_exception=False) as span:
        try:
            yield span
        except Exception as exc:
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise
