"""Tool workflows: ordering, chaining, overlap, references, timeout, stop, ownership."""

from __future__ import annotations

import asyncio

from tests.heavy.helpers import (
    orchestrate,
    progress,
    result_of,
    step_of,
    ts,
    wait_done,
    wait_until,
)


def wait(step: int, seconds: float, value=None, **extra):
    params = {"seconds": seconds}
    if value is not None:
        params["value"] = value
    return {"step": step, "tool": "wait", "parameters": params, **extra}


async def test_start_answers_contract_shape(client, user):
    started = await orchestrate(client, user, {
        "workflow": [wait(1, 0), wait(2, 0)], "config": {"timeout": 30, "parallel": False}})
    assert started["orchestration_id"].startswith("orch_")
    assert started["status"] == "started"
    assert started["total_steps"] == 2
    assert started["estimated_duration"] > 0
    body = await wait_done(client, user, started["orchestration_id"])
    assert body["status"] == "completed"
    assert body["progress"] == 100
    assert body["estimated_time_remaining"] == 0
    assert [s["status"] for s in body["steps"]] == ["completed", "completed"]
    assert all(s["name"] == "Wait" and s["duration"] is not None for s in body["steps"])


async def test_sequential_runs_in_order_and_chains_results(client, user):
    started = await orchestrate(client, user, {
        "workflow": [wait(1, 0.2, value={"n": 1}), wait(2, 0.1, value="$steps.1.result.value"),
                     wait(3, 0)],
        "config": {"timeout": 30, "parallel": False}})
    body = await wait_done(client, user, started["orchestration_id"])
    assert body["status"] == "completed", body
    s1, s2, s3 = (step_of(body, n) for n in (1, 2, 3))
    assert ts(s1["completed_at"]) <= ts(s2["started_at"])
    assert ts(s2["completed_at"]) <= ts(s3["started_at"])
    assert result_of(body, 2)["value"] == {"n": 1}


async def test_parallel_steps_overlap_and_references_wait(client, user):
    started = await orchestrate(client, user, {
        "workflow": [wait(1, 1.0, value="a"), wait(2, 1.0, value="b"),
                     wait(3, 0, value=["$steps.1.result.value", "$steps.2.result.value"])],
        "config": {"timeout": 60, "parallel": True}})
    body = await wait_done(client, user, started["orchestration_id"])
    assert body["status"] == "completed", body
    s1, s2, s3 = (step_of(body, n) for n in (1, 2, 3))
    # Steps 1 and 2 overlap in time; step 3 starts only after both ended.
    assert ts(s1["started_at"]) < ts(s2["completed_at"])
    assert ts(s2["started_at"]) < ts(s1["completed_at"])
    assert ts(s3["started_at"]) >= max(ts(s1["completed_at"]), ts(s2["completed_at"]))
    assert result_of(body, 3)["value"] == ["a", "b"]


async def test_timeout_keeps_partial_results(client, user):
    started = await orchestrate(client, user, {
        "workflow": [wait(1, 0, value="kept"), wait(2, 60), wait(3, 0)],
        "config": {"timeout": 1.5, "parallel": False}})
    body = await wait_done(client, user, started["orchestration_id"], within=30)
    assert body["status"] == "timeout"
    assert step_of(body, 1)["status"] == "completed"
    assert result_of(body, 1)["value"] == "kept"
    assert step_of(body, 2)["status"] == "cancelled"
    assert step_of(body, 3)["status"] == "cancelled"
    assert "timed out" in step_of(body, 2)["error"]
    assert 33 <= body["progress"] < 100  # how far it got, not "done"


async def test_stop_cancels_running_steps(client, user):
    started = await orchestrate(client, user, {
        "workflow": [wait(1, 0, value="done"), wait(2, 60)],
        "config": {"timeout": 600, "parallel": False}})
    orch_id = started["orchestration_id"]
    await wait_until(client, user, orch_id, lambda b: step_of(b, 2)["status"] == "running")
    resp = await client.post(f"/api/heavy/orchestrations/{orch_id}/stop", headers=user.headers)
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "cancelled"
    body = await wait_done(client, user, orch_id)
    assert body["status"] == "cancelled"
    assert step_of(body, 1)["status"] == "completed"
    assert step_of(body, 2)["status"] == "cancelled"
    again = await client.post(f"/api/heavy/orchestrations/{orch_id}/stop", headers=user.headers)
    assert again.status_code == 409
    assert again.json()["code"] == "CONFLICT"


async def test_failed_step_skips_dependents(client, user):
    started = await orchestrate(client, user, {
        "workflow": [wait(1, 0, value={"a": 1}), wait(2, 0, value="$steps.1.result.missing"),
                     wait(3, 0)],
        "config": {"timeout": 30, "parallel": False}})
    body = await wait_done(client, user, started["orchestration_id"])
    assert body["status"] == "failed"
    assert step_of(body, 2)["status"] == "failed"
    assert "missing" in step_of(body, 2)["error"]
    assert step_of(body, 3)["status"] == "skipped"


async def test_progress_without_id_is_latest_and_owner_only(client, user, other_user):
    started = await orchestrate(client, user, {"workflow": [wait(1, 0)]})
    latest = await progress(client, user)
    assert latest["orchestration_id"] == started["orchestration_id"]
    resp = await client.get("/api/heavy/progress",
                            params={"orchestration_id": started["orchestration_id"]},
                            headers=other_user.headers)
    assert resp.status_code == 404
    stop = await client.post(f"/api/heavy/orchestrations/{started['orchestration_id']}/stop",
                             headers=other_user.headers)
    assert stop.status_code == 404
    mine = await client.get("/api/heavy/progress", headers=other_user.headers)
    assert mine.status_code in (200, 404)
    if mine.status_code == 200:
        assert mine.json()["orchestration_id"] != started["orchestration_id"]


async def test_progress_events_are_published(client, user, server):
    from sqlalchemy import select

    from crazy_gary.db import session_scope
    from crazy_gary.realtime.models import Event

    started = await orchestrate(client, user, {"workflow": [wait(1, 0)]})
    orch_id = started["orchestration_id"]
    await wait_done(client, user, orch_id)

    async def events():
        async with session_scope() as session:
            rows = (await session.scalars(select(Event).where(
                Event.event == "orchestration_update", Event.user_id == user.id)
                .order_by(Event.id))).all()
            return [r.data for r in rows if r.data.get("orchestration_id") == orch_id]

    data = await asyncio.to_thread(server.run_coro, events())
    assert data[-1]["status"] == "completed"
    assert any(d.get("step", {}).get("status") == "running" for d in data)
    assert all(d["total_steps"] == 1 for d in data)
