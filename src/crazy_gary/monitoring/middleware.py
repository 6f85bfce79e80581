"""Request telemetry as pure ASGI: a span, Prometheus counters and a request-log record.

Recording is an append to an in-memory buffer; the database write happens in the
background flusher, so requests pay microseconds, not a round trip.
"""

from __future__ import annotations

import contextvars
import time
from contextlib import nullcontext

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crazy_gary.auth.tokens import bearer_token, peek_user_id
from crazy_gary.config import Settings
from crazy_gary.kit.clock import utcnow
from crazy_gary.monitoring.recorder import telemetry
from crazy_gary.observability.metrics import HTTP_LATENCY, HTTP_REQUESTS
from crazy_gary.observability.store import span_store
from crazy_gary.observability.tracing import tracer

current_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "current_request_id", default=None)


class RequestTelemetryMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started_at = utcnow()
        t0 = time.perf_counter()
        request_id = scope.get("state", {}).get("request_id")
        # Not reset afterwards: the outermost error middleware logs after we return, and
        # each request runs in its own task, so the value dies with it.
        current_request_id.set(request_id)
        headers = dict(scope.get("headers") or ())
        raw_token = bearer_token(headers.get(b"authorization", b"").decode("latin-1"))
        user_id = peek_user_id(self.settings, raw_token) if raw_token else None
        method = scope.get("method", "GET")
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        attributes: dict = {}
        if user_id is not None:
            attributes["user_id"] = user_id
        if request_id:
            attributes["request_id"] = request_id
        # FastAPI's native telemetry already opened the request's server span when a tracer
        # provider is installed: enrich it; otherwise open our own.
        outer = trace.get_current_span()
        if outer.is_recording():
            outer.set_attributes(attributes)
            span_store.add_tags(outer, attributes)
            scope_cm = nullcontext(outer)
        else:
            attributes.update({"http.request.method": method, "url.path": scope.get("path", "")})
            scope_cm = tracer.start_as_current_span(f"{method}", kind=SpanKind.SERVER,
                                                    attributes=attributes)
        with scope_cm as span:
            try:
                await self.app(scope, receive, send_wrapper)
            finally:
                elapsed = time.perf_counter() - t0
                route_obj = scope.get("route")
                route = getattr(route_obj, "path", None)
                label = route or "unmatched"
                if span is not outer:
                    span.update_name(f"{method} {label}")
                    span.set_attribute("http.route", label)
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(Status(StatusCode.ERROR))
                HTTP_REQUESTS.labels(method=method, route=label, status=str(status)).inc()
                HTTP_LATENCY.labels(method=method, route=label).observe(elapsed)
                client = scope.get("client")
                telemetry.record_request({
                    "timestamp": started_at,
                    "method": method,
                    "path": scope.get("path", "")[:512],
                    "route": route,
                    "status_code": status,
                    "response_time": round(elapsed * 1000, 3),
                    "user_agent": (headers.get(b"user-agent") or b"").decode("latin-1")[:512]
                    or None,
                    "ip_address": client[0] if client else None,
                    "user_id": user_id,
                    "request_id": request_id,
                })
