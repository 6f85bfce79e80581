"""Traces and observability metrics computed from the real spans and events."""

from __future__ import annotations

import asyncio

import httpx

from crazy_gary.observability.tracing import task_context, task_trace_id, tracer


async def _poll(fetch, predicate, within: float = 10.0):
    for _ in range(int(within / 0.1)):
        result = await fetch()
        if predicate(result):
            return result
        await asyncio.sleep(0.1)
    raise AssertionError(f"condition not met; last: {result}")


async def test_requests_become_traces_with_database_spans(client, user, other_user):
    await client.get("/api/auth/me", headers=user.headers)

    async def fetch():
        resp = await client.get("/api/observability/traces/active", headers=user.headers)
        assert resp.status_code == 200
        return resp.json()

    def is_me(t):
        return t["operation_name"] == "GET /api/auth/me" and t["status"] == "ok"

    traces = await _poll(fetch, lambda ts: any(is_me(t) for t in ts))
    trace = next(t for t in traces if is_me(t))
    assert trace["tags"]["http.route"] == "/api/auth/me"
    assert trace["tags"]["http.response.status_code"] == "200"
    assert len(trace["trace_id"]) == 32 and len(trace["span_id"]) == 16
    assert trace["tags"]["user_id"] == str(user.id)
    assert trace["duration"] > 0 and trace["start_time"].endswith("Z")
    assert trace["span_count"] >= 2  # the request and at least one query
    # Nobody sees another user's traces.
    assert all(t["tags"].get("user_id") == str(user.id) for t in traces)
    theirs = (await client.get("/api/observability/traces/active",
                               headers=other_user.headers)).json()
    assert trace["trace_id"] not in [t["trace_id"] for t in theirs]


async def test_task_work_joins_one_trace(client, admin):
    task_id = "task_trace_test"
    for step in range(3):  # e.g. steps run by different processes, before and after a crash
        with tracer.start_as_current_span("agent.step", context=task_context(task_id),
                                          attributes={"task_id": task_id, "step": step}):
            with tracer.start_as_current_span("model.chat", attributes={"model": "gpt-oss-20b"}):
                pass
    resp = await client.get("/api/observability/traces/active", headers=admin.headers,
                            params={"limit": 100})
    trace_id = format(task_trace_id(task_id), "032x")
    found = [t for t in resp.json() if t["trace_id"] == trace_id]
    assert len(found) == 1
    assert found[0]["span_count"] == 6
    assert found[0]["tags"]["task_id"] == task_id
    assert found[0]["status"] == "ok"


async def test_observability_metrics(client, user):
    await client.get("/api/auth/me", headers=user.headers)
    resp = await client.get("/api/observability/metrics", headers=user.headers)
    assert resp.status_code == 200
    body = resp.json()
    assert body["traces"]["total"] > 0
    assert 0 <= body["traces"]["error_rate"] <= 1
    assert body["traces"]["average_latency"] > 0
    assert body["spans"]["total"] >= body["spans"]["db_spans"] > 0
    assert body["spans"]["by_kind"]["request"] > 0
    assert "external_spans" in body["spans"]
    assert body["events"]["total"] == sum(body["events"]["by_kind"].values())
    assert "task_events" in body["events"] and "agent_events" in body["events"]
    assert (await client.get("/api/observability/metrics")).status_code == 401


async def test_outgoing_model_calls_are_spans_in_the_current_trace(server, client, admin):
    import httpx

    with tracer.start_as_current_span("agent.step", context=task_context("task_model_span"),
                                      attributes={"task_id": "task_model_span"}):
        async with httpx.AsyncClient(base_url=server.url) as http:
            await http.post("/v1/chat/completions", json={"model": "openai/gpt-oss-20b",
                                                          "messages": []})
    resp = await client.get("/api/observability/traces/active", headers=admin.headers,
                            params={"limit": 100})
    trace_id = format(task_trace_id("task_model_span"), "032x")
    found = [t for t in resp.json() if t["trace_id"] == trace_id]
    assert found and found[0]["span_count"] >= 2
    from crazy_gary import runtime

    span_store = runtime.current().telemetry.spans

    assert span_store.totals()["spans_by_kind"].get("model", 0) >= 1


async def test_durable_workflows_and_steps_are_traced(client, admin):
    from dbos import DBOS

    from crazy_gary.monitoring.workflows import SCHEDULE

    handle = await asyncio.to_thread(DBOS.trigger_schedule, SCHEDULE)
    await asyncio.to_thread(handle.get_result)

    async def fetch():
        resp = await client.get("/api/observability/traces/active", headers=admin.headers,
                                params={"limit": 100})
        return resp.json()

    traces = await _poll(fetch, lambda ts: any(t["operation_name"] == "monitoring_tick"
                                               and t["status"] != "running" for t in ts))
    tick = next(t for t in traces if t["operation_name"] == "monitoring_tick")
    assert tick["span_count"] >= 3  # the workflow, its step(s), their queries
    body = (await client.get("/api/observability/metrics", headers=admin.headers)).json()
    assert body["spans"]["by_kind"].get("workflow", 0) >= 1
    assert body["spans"]["by_kind"].get("step", 0) >= 1


async def test_traces_page_with_limit_offset_and_headers(client, other_user):
    for _ in range(3):
        await client.get("/api/auth/me", headers=other_user.headers)

    async def fetch(offset: int) -> httpx.Response:
        return await client.get("/api/observability/traces/active", headers=other_user.headers,
                                params={"limit": 1, "offset": offset})

    # (The list is live: each read is itself a new trace, so pages are compared by shape.)
    first = await _poll(lambda: fetch(0), lambda r: int(r.headers["X-Total-Count"]) >= 3)
    assert len(first.json()) == 1 and first.headers["X-Has-More"] == "true"
    beyond = await fetch(10_000)
    assert beyond.json() == [] and beyond.headers["X-Has-More"] == "false"
    assert beyond.headers["X-Offset"] == "10000"
