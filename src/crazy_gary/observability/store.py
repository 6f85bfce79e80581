"""An in-process span processor that keeps running and recent traces and span counts.

It feeds /api/observability/traces/active and /api/observability/metrics. Each process
keeps its own (spans are exported over OTLP for a cluster-wide view).
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
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


@dataclass
class TraceSummary:
    trace_id: str
    span_id: str
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
    attrs = span.attributes or {}
    return {key: str(attrs[key]) for key in TAG_KEYS if key in attrs}


class SpanStore(SpanProcessor):
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.traces: OrderedDict[str, TraceSummary] = OrderedDict()
        self.spans_by_kind: Counter[str] = Counter()
        self.external_spans = 0
        self.traces_total = 0
        self.traces_failed = 0
        self.latency_sum_ms = 0.0

    def on_start(self, span: Span, parent_context: Any = None) -> None:
        if not _is_entry(span):
            return
        trace_id = format(span.context.trace_id, "032x")
        with self.lock:
            summary = self.traces.get(trace_id)
            if summary is None:
                summary = TraceSummary(trace_id=trace_id, span_id=format(span.context.span_id,
                                                                         "016x"),
                                       operation_name=span.name, start_ns=span.start_time or 0)
                self.traces[trace_id] = summary
                while len(self.traces) > MAX_TRACES:
                    self.traces.popitem(last=False)
            else:
                self.traces.move_to_end(trace_id)
            summary.running += 1
            summary.tags.update(_tags(span))

    def on_end(self, span: ReadableSpan) -> None:
        kind = kind_of(span)
        trace_id = format(span.context.trace_id, "032x")
        failed = span.status.status_code == StatusCode.ERROR
        with self.lock:
            self.spans_by_kind[kind] += 1
            if kind in EXTERNAL_KINDS:
                self.external_spans += 1
            summary = self.traces.get(trace_id)
            if summary is None:
                return
            summary.span_count += 1
            summary.error = summary.error or failed
            if span.end_time:
                summary.end_ns = max(summary.end_ns or 0, span.end_time)
            if _is_entry(span):
                if format(span.context.span_id, "016x") == summary.span_id:
                    summary.operation_name = span.name  # renamed once the route is known
                summary.running = max(0, summary.running - 1)
                summary.tags.update(_tags(span))
                if summary.running == 0 and not summary.counted:
                    summary.counted = True
                    self.traces_total += 1
                    self.traces_failed += int(summary.error)
                    self.latency_sum_ms += ((summary.end_ns or summary.start_ns)
                                            - summary.start_ns) / 1e6

    def add_tags(self, span: ReadableSpan, tags: dict[str, Any]) -> None:
        """Tags learnt after a trace's entry span started (e.g. the signed-in user)."""
        with self.lock:
            summary = self.traces.get(format(span.get_span_context().trace_id, "032x"))
            if summary is not None:
                summary.tags.update({k: str(v) for k, v in tags.items() if k in TAG_KEYS})

    def snapshot(self) -> list[TraceSummary]:
        """Most recent first."""
        with self.lock:
            return [TraceSummary(**{**vars(s), "tags": dict(s.tags)})
                    for s in reversed(self.traces.values())]

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


span_store = SpanStore()
