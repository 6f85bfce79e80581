"""Request telemetry as pure ASGI: the request's span, Prometheus counters and a
request-log record.

This middleware is the one place a request is traced (FastAPI's own telemetry is switched
off in `create_app`, so a request opens one server span, not one per dependency).
Recording is an append to an in-memory buffer; the database write happens in the
background flusher, so requests pay microseconds, not a round trip.
"""

from __future__ import annotations

import contextvars
import time
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crazy_gary.auth.tokens import bearer_token, peek_user_id
from crazy_gary.config import Settings
from crazy_gary.kit.clock import utcnow
from crazy_gary.observability.metrics import HTTP_LATENCY, HTTP_REQUESTS
from crazy_gary.observability.tracing import READ_METHODS, SAMPLED_OUT, tracer

current_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "current_request_id", default=None)

_ERROR = Status(StatusCode.ERROR)


class RequestTelemetryMiddleware:
    """Records into the telemetry of the runtime serving the app (`app.state.runtime`)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        # The labelled children of the request metrics, looked up once per label set (the
        # metric's own lookup takes a lock and rebuilds the key on every call).
        self._children: dict[tuple[str, str, str], tuple[Counter, Histogram]] = {}

    def _request_metrics(self, method: str, route: str,
                         status: str) -> tuple[Counter, Histogram]:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (HTTP_REQUESTS.labels(method, route, status),
                                              HTTP_LATENCY.labels(method, route))
        return children

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
        authorization = user_agent = b""
        for name, value in scope.get("headers") or ():
            if name == b"authorization":
                authorization = value
            elif name == b"user-agent":
                user_agent = value
        raw_token = bearer_token(authorization.decode("latin-1")) if authorization else None
        user_id = peek_user_id(self.settings, raw_token) if raw_token else None
        method = scope.get("method", "GET")
        path = scope.get("path", "")
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        telemetry = scope["app"].state.runtime.telemetry
        if method in READ_METHODS and not telemetry.read_budget.take():
            span = None  # sampled out: no span, and nothing under it is traced either
            token = otel_context.attach(SAMPLED_OUT)
        else:
            attributes: dict[str, Any] = {"http.request.method": method, "url.path": path}
            if user_id is not None:
                attributes["user_id"] = user_id
            if request_id:
                attributes["request_id"] = request_id
            span = tracer.start_span(method, kind=SpanKind.SERVER, attributes=attributes)
            token = otel_context.attach(trace.set_span_in_context(span))
        try:
            await self.app(scope, receive, send_wrapper)
        except BaseException as exc:
            if span is not None:
                span.record_exception(exc)
            raise
        finally:
            otel_context.detach(token)
            elapsed = time.perf_counter() - t0
            route = getattr(scope.get("route"), "path", None)
            label = route or "unmatched"
            if span is not None:
                span.update_name(f"{method} {label}")
                span.set_attributes({"http.route": label, "http.response.status_code": status})
                if status >= 500:
                    span.set_status(_ERROR)
                span.end()
            requests_total, latency = self._request_metrics(method, label, str(status))
            requests_total.inc()
            latency.observe(elapsed)
            client = scope.get("client")
            if user_id is None:  # an API key's owner, known once the route signed it in
                user_id = scope.get("state", {}).get("api_key_user_id")
            telemetry.recorder.record_request({
                "timestamp": started_at,
                "method": method,
                "path": path[:512],
                "route": route,
                "status_code": status,
                "response_time": round(elapsed * 1000, 3),
                "user_agent": user_agent.decode("latin-1")[:512] or None,
                "ip_address": client[0] if client else None,
                "user_id": user_id,
                "request_id": request_id,
            })
