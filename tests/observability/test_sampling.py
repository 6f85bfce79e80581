"""Trace sampling: reads beyond the per-second budget are sampled out; everything else,
and everything inside a recorded trace or a task's trace, is recorded."""

from __future__ import annotations

import time

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ParentBased
from opentelemetry.trace import SpanKind

from crazy_gary.observability.tracing import ReadRateSampler, task_context


def _tracer(per_second: float):
    provider = TracerProvider(sampler=ParentBased(root=ReadRateSampler(per_second)))
    return provider.get_tracer("test")


def _request(tracer, method: str) -> bool:
    with tracer.start_as_current_span(method, kind=SpanKind.SERVER,
                                      attributes={"http.request.method": method}) as span:
        return span.is_recording()


def test_reads_beyond_the_budget_are_sampled_out_and_the_budget_refills():
    tracer = _tracer(5)
    burst = [_request(tracer, "GET") for _ in range(20)]
    assert burst.count(True) == 5 and burst[:5] == [True] * 5
    time.sleep(0.5)  # half a second refills about half the budget
    refilled = [_request(tracer, "GET") for _ in range(10)].count(True)
    assert 1 <= refilled <= 3


def test_writes_and_untyped_roots_are_always_recorded():
    tracer = _tracer(1)
    assert [_request(tracer, "GET") for _ in range(3)] == [True, False, False]
    assert all(_request(tracer, method) for method in ("POST", "PUT", "DELETE", "PATCH"))
    with tracer.start_as_current_span("monitoring_tick") as span:  # a scheduled job
        assert span.is_recording()


def test_spans_follow_their_parent_and_task_traces_are_always_recorded():
    tracer = _tracer(1)
    _request(tracer, "GET")  # spends the budget
    with tracer.start_as_current_span("GET", attributes={"http.request.method": "GET"}) as root:
        assert not root.is_recording()
        with tracer.start_as_current_span("db.select") as child:
            assert not child.is_recording()  # no orphan spans from a sampled-out request
    get = {"http.request.method": "GET"}
    with tracer.start_as_current_span("POST", attributes={"http.request.method": "POST"}):
        with tracer.start_as_current_span("GET", attributes=get) as inner:
            assert inner.is_recording()  # inside a recorded trace the budget does not apply
    with tracer.start_as_current_span("agent.step", context=task_context("task_x")) as step:
        assert step.is_recording()


def test_zero_records_every_read():
    tracer = _tracer(0)
    assert all(_request(tracer, "GET") for _ in range(200))
