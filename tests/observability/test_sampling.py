"""Trace sampling: reads beyond the per-second budget open no span, and nothing under them
is traced; everything else, and everything inside a recorded trace or a task's trace, is
recorded."""

from __future__ import annotations

import time

from opentelemetry import context as otel_context
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased

from crazy_gary.observability.tracing import SAMPLED_OUT, ReadBudget, task_context


def _tracer():
    return TracerProvider(sampler=ParentBased(root=ALWAYS_ON)).get_tracer("test")


def test_reads_beyond_the_budget_are_refused_and_the_budget_refills():
    budget = ReadBudget(5)
    burst = [budget.take() for _ in range(20)]
    assert burst.count(True) == 5 and burst[:5] == [True] * 5
    time.sleep(0.5)  # half a second refills about half the budget
    refilled = [budget.take() for _ in range(10)].count(True)
    assert 1 <= refilled <= 3


def test_zero_admits_every_read():
    budget = ReadBudget(0)
    assert all(budget.take() for _ in range(500))


def test_nothing_under_a_sampled_out_request_is_recorded():
    tracer = _tracer()
    token = otel_context.attach(SAMPLED_OUT)
    try:
        with tracer.start_as_current_span("db.select") as child:
            assert not child.is_recording()  # no orphan traces from a sampled-out request
            with tracer.start_as_current_span("model.call") as grandchild:
                assert not grandchild.is_recording()
    finally:
        otel_context.detach(token)
    with tracer.start_as_current_span("monitoring_tick") as job:  # a root outside requests
        assert job.is_recording()


def test_task_traces_are_recorded_even_from_a_sampled_out_request():
    tracer = _tracer()
    token = otel_context.attach(SAMPLED_OUT)
    try:
        with tracer.start_as_current_span("agent.step", context=task_context("task_x")) as step:
            assert step.is_recording()
    finally:
        otel_context.detach(token)


def test_a_served_process_traces_reads_within_the_budget_and_every_write():
    """End to end on `crazy-gary serve` with a budget of one read a second: a burst of reads
    leaves one or two traces, none of their queries turns into a trace of its own, and a
    write after them is traced."""
    import tempfile
    import time
    from pathlib import Path

    import httpx

    from tests.support import ProcessServer

    data_dir = Path(tempfile.mkdtemp(prefix="cg-sampling-"))
    srv = ProcessServer({
        "CRAZY_GARY_DATA_DIR": str(data_dir), "DATABASE_URL": "", "REDIS_URL": "",
        "RATE_LIMITS_ENABLED": "false", "TRACE_READS_PER_SECOND": "1",
        "CRAZY_GARY_EXECUTOR_ID": f"sampling-{data_dir.name}"}).start()
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            registered = c.post("/api/auth/register", json={
                "email": "sampled@example.com", "password": "Passw0rd-123", "fullName": "S"})
            assert registered.status_code == 201, registered.text
            headers = {"Authorization": f"Bearer {registered.json()['token']}"}
            time.sleep(1.2)  # a full budget: one read
            for _ in range(20):
                assert c.get("/api/auth/me", headers=headers).status_code == 200
            renamed = c.put("/api/auth/me", headers=headers, json={"name": "Renamed"})
            assert renamed.status_code == 200, renamed.text
            traces = c.get("/api/observability/traces/active", headers=headers,
                           params={"limit": 100}).json()
    finally:
        srv.stop()
    names = [t["operation_name"] for t in traces]
    assert "PUT /api/auth/me" in names
    assert 1 <= names.count("GET /api/auth/me") <= 2, names
    assert not [n for n in names if n.startswith("db.")], names
