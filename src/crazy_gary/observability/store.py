"""An in-process span processor that keeps running and recent traces and span counts.

It feeds /api/observability/traces/active and /api/observability/metrics. Each process
keeps its own (spans are exported over OTLP for a cluster-wide view).
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field, replace
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import SpanKind, StatusCode

MAX_TRACES = 1000
EXTERNAL_KINDS = frozenset({"model", "tool", "http_client"})
TAG_KEYS = ("user_id", "task_id", "model", "tool", "client", "step", "request_id",
            "http.request.method", "http.route", "http.response.status_code", "url.path")


def kind_of(span: ReadableSpan) -> str:
    """request, db, model, tool, agent_step, workflow, step, http_client or other."""
    name = span.name
    for prefix, kind in (("db.", "db"), ("model.", "model"), ("tool.", "tool"),
                         ("toolhub.", "tool"), ("agent.", "agent_step"),
                         ("http.client", "http_client")):
        if name.startswith(prefix):
            return kind
    operation = (span.attributes or {}).get("operationType")  # the durable engine's spans
    if operation == "workflow":
        return "workflow"
    if operation in ("step", "transaction"):
        return "step"
    if span.kind == SpanKind.SERVER:
        return "request"
    return "other"


@dataclass(slots=True)
class TraceSummary:
    """A trace as the store tracks it; ids stay ints (formatted only when read out)."""

    trace_id: int
    span_id: int
    operation_name: str
    start_ns: int
    end_ns: int | None = None
    running: int = 0
    span_count: int = 0
    error: bool = False
    counted: bool = False
    tags: dict[str, str] = field(default_factory=dict)


def _is_entry(span: ReadableSpan) -> bool:
    return span.parent is None or span.parent.is_remote


def _tags(span: ReadableSpan) -> dict[str, str]:
    attrs = span.attributes
    if not attrs:
        return {}
    # Intersect the key sets first: each lookup in the SDK's attribute map takes a lock.
    return {key: str(attrs[key]) for key in _TAG_KEY_SET.intersection(attrs)}


_TAG_KEY_SET = frozenset(TAG_KEYS)


class SpanStore(SpanProcessor):
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.traces: OrderedDict[int, TraceSummary] = OrderedDict()
        self.spans_by_kind: Counter[str] = Counter()
        self.external_spans = 0
        self.traces_total = 0
        self.traces_failed = 0
        self.latency_sum_ms = 0.0

    def on_start(self, span: Span, parent_context: Any = None) -> None:
        if not _is_entry(span):
            return
        context = span.context
        tags = _tags(span)
        with self.lock:
            entry = self.traces.get(context.trace_id)
            if entry is None:
                entry = TraceSummary(context.trace_id, context.span_id, span.name,
                                     span.start_time or 0)
                self.traces[context.trace_id] = entry
                if len(self.traces) > MAX_TRACES:
                    self.traces.popitem(last=False)
            else:
                self.traces.move_to_end(context.trace_id)
            entry.running += 1
            entry.tags.update(tags)

    def on_end(self, span: ReadableSpan) -> None:
        kind = kind_of(span)
        context = span.context
        failed = span.status.status_code == StatusCode.ERROR
        entry_span = _is_entry(span)
        tags = _tags(span) if entry_span else None
        with self.lock:
            self.spans_by_kind[kind] += 1
            if kind in EXTERNAL_KINDS:
                self.external_spans += 1
            entry = self.traces.get(context.trace_id)
            if entry is None:
                return
            entry.span_count += 1
            entry.error = entry.error or failed
            if span.end_time:
                entry.end_ns = max(entry.end_ns or 0, span.end_time)
            if tags is not None:
                if context.span_id == entry.span_id:
                    entry.operation_name = span.name  # renamed once the route is known
                entry.running = max(0, entry.running - 1)
                entry.tags.update(tags)
                if entry.running == 0 and not entry.counted:
                    entry.counted = True
                    self.traces_total += 1
                    self.traces_failed += int(entry.error)
                    self.latency_sum_ms += ((entry.end_ns or entry.start_ns)
                                            - entry.start_ns) / 1e6

    def snapshot(self) -> list[TraceSummary]:
        """Most recent first."""
        with self.lock:
            return [replace(entry, tags=dict(entry.tags))
                    for entry in reversed(self.traces.values())]

    def totals(self) -> dict[str, Any]:
        with self.lock:
            return {
                "traces_total": self.traces_total,
                "traces_failed": self.traces_failed,
                "latency_sum_ms": self.latency_sum_ms,
                "spans_by_kind": dict(self.spans_by_kind),
                "external_spans": self.external_spans,
            }

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True

