"""Observability API schemas (field names as the contract shows them)."""

from __future__ import annotations

from pydantic import BaseModel


class TraceTotals(BaseModel):
    total: int
    error_rate: float
    average_latency: float


class SpanTotals(BaseModel):
    total: int
    db_spans: int
    external_spans: int
    by_kind: dict[str, int]


class EventTotals(BaseModel):
    total: int
    agent_events: int
    task_events: int
    by_kind: dict[str, int]


class ObservabilityMetrics(BaseModel):
    traces: TraceTotals
    spans: SpanTotals
    events: EventTotals


class TraceRead(BaseModel):
    trace_id: str
    span_id: str
    operation_name: str
    start_time: str
    duration: float
    status: str
    span_count: int
    tags: dict[str, str]
