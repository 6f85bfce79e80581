"""The tracer every domain opens spans with, and the process's tracing set-up.

Spans are classified by name prefix so the read-outs can count them by kind:
`http ...` (requests), `db.` (queries), `model.` (model calls), `tool.` (tool calls),
`agent.` (agent steps). Work for one task joins one trace: open the task's spans
under `task_context(task_id)`, whose trace id is derived from the task id, so steps
run by any process, before or after a crash, land in the same trace.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from crazy_gary.config import Settings

log = logging.getLogger(__name__)

tracer = trace.get_tracer("crazy_gary")


def setup_tracing(settings: Settings, store: SpanProcessor) -> None:
    """Send spans to the runtime's in-memory `store`, plus OTLP if configured. The tracer
    provider is process-wide (OpenTelemetry's global): installed by the first runtime of
    the process, and a later one adds its store to it."""
    existing = trace.get_tracer_provider()
    if isinstance(existing, TracerProvider):
        existing.add_span_processor(store)
        return
    provider = TracerProvider(
        resource=Resource.create({
            "service.name": "crazy-gary", "service.instance.id": settings.executor_id}),
        sampler=ParentBased(root=ALWAYS_ON))
    provider.add_span_processor(store)
    if settings.otel_exporter_otlp_endpoint:
        # deferred: the exporter stack loads only when an OTLP endpoint is configured
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        endpoint = settings.otel_exporter_otlp_endpoint.rstrip("/")
        if not endpoint.endswith("/v1/traces"):
            endpoint += "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
        log.info("exporting traces over OTLP to %s", endpoint)
    trace.set_tracer_provider(provider)


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ReadBudget:
    """How many read requests (GET/HEAD/OPTIONS) a second this process traces: a token
    bucket with a one-second burst; 0 traces them all.

    The request middleware asks before it opens a request's span, and a read beyond the
    budget runs under `SAMPLED_OUT` instead, so it costs no span at all (an unsampled SDK
    span still costs a noticeable share of a cached `/api/auth/me`). Everything else is
    recorded: a request that starts work (a POST) with the workflow, agent steps, model and
    tool calls it leads to, a task's own trace (`task_context`), scheduled jobs.
    """

    def __init__(self, per_second: float) -> None:
        self.per_second = per_second
        self._tokens = per_second
        self._refilled = time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> bool:
        if self.per_second <= 0:
            return True
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.per_second,
                               self._tokens + (now - self._refilled) * self.per_second)
            self._refilled = now
            if self._tokens >= 1:
                self._tokens -= 1
                return True
            return False


# The parent context of a sampled-out request: spans opened under it (a query, a model
# call) follow their parent's decision and are not recorded either, rather than starting
# traces of their own.
SAMPLED_OUT = trace.set_span_in_context(NonRecordingSpan(SpanContext(
    trace_id=1, span_id=1, is_remote=False, trace_flags=TraceFlags(TraceFlags.DEFAULT))))


def task_trace_id(task_id: str) -> int:
    return int.from_bytes(hashlib.sha256(f"task:{task_id}".encode()).digest()[:16], "big") or 1


def task_context(task_id: str) -> otel_context.Context:
    """A parent context whose trace id is derived from the task id (one trace per task)."""
    digest = hashlib.sha256(f"span:{task_id}".encode()).digest()
    parent = SpanContext(
        trace_id=task_trace_id(task_id),
        span_id=int.from_bytes(digest[:8], "big") or 1,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )
    return trace.set_span_in_context(NonRecordingSpan(parent))
