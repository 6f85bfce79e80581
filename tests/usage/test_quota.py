"""Monthly quotas: set by admins, read by the user, the 80 % warning, 429 QUOTA_EXCEEDED on
new work, and a running task failing at its next model call with its partial result."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.realtime.helpers import SSEReader
from tests.schedules.helpers import create_schedule, wait_runs
from tests.tasks.helpers import marker, run_task, tag, wait_for

STREAM = "/api/observability/events/stream"


def next_month_start() -> str:
    now = datetime.now(UTC)
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    return f"{year:04d}-{month:02d}-01T00:00:00Z"


async def _answer(client, user, model_standin, usages: list[tuple[int, int]]) -> dict:
    """A task whose plan and answer report the given (prompt, completion) usages."""
    script = tag("quota")
    replies = [{"content": "1. Answer", "usage": {"prompt_tokens": usages[0][0],
                                                 "completion_tokens": usages[0][1]}},
               {"content": "Answered.", "usage": {"prompt_tokens": usages[1][0],
                                                  "completion_tokens": usages[1][1]}}]
    model_standin.script(script, replies)
    task_id = await run_task(client, user, script)
    return await wait_for(client, user, task_id)


async def _warnings(server, user, last_task_id: str) -> list[dict]:
    """The user's quota_warning events, replayed over SSE from the start of the log up to
    the end of the user's last task (the log is replayed in order)."""
    async with SSEReader(server.url + STREAM, token=user.token, last_event_id=0) as stream:
        await stream.wait_for(lambda f: f["event"] == "task_completed"
                              and f["data"]["task_id"] == last_task_id, within=15)
        return [f["data"] for f in stream.events("quota_warning")]


async def test_admin_sets_quota_and_user_reads_it(client, register_user, admin, user):
    member = await register_user()
    resp = await client.put(f"/api/users/{member.id}/quota", headers=admin.headers,
                            json={"monthly_tokens": 5000, "monthly_cost_usd": 2.5})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["monthly_tokens"] == 5000 and body["monthly_cost_usd"] == 2.5
    assert body["used"] == {"tokens": 0, "cost_usd": 0.0}
    assert body["exceeded"] == []

    mine = (await client.get("/api/auth/me/quota", headers=member.headers)).json()
    assert mine["user_id"] == member.id
    assert (mine["monthly_tokens"], mine["monthly_cost_usd"]) == (5000, 2.5)
    assert mine["resets_at"] == next_month_start()
    assert mine["period"] == datetime.now(UTC).strftime("%Y-%m")

    # a limit left out keeps its value; null is unlimited
    resp = await client.put(f"/api/users/{member.id}/quota", headers=admin.headers,
                            json={"monthly_cost_usd": None})
    assert (resp.json()["monthly_tokens"], resp.json()["monthly_cost_usd"]) == (5000, None)
    seen = (await client.get(f"/api/users/{member.id}/quota", headers=admin.headers)).json()
    assert seen["monthly_tokens"] == 5000 and seen["monthly_cost_usd"] is None

    # not an admin: 403, unknown user: 404, bad values: the error format
    resp = await client.put(f"/api/users/{member.id}/quota", headers=member.headers,
                            json={"monthly_tokens": 10**9})
    assert resp.status_code == 403 and resp.json()["code"] == "INSUFFICIENT_PERMISSIONS"
    resp = await client.get(f"/api/users/{user.id}/quota", headers=member.headers)
    assert resp.status_code == 403
    resp = await client.put("/api/users/2000000000/quota", headers=admin.headers,
                            json={"monthly_tokens": 1})
    assert resp.status_code == 404 and resp.json()["code"] == "NOT_FOUND"
    for bad in ({"monthly_tokens": -1}, {"monthly_tokens": "10"}, {"monthly_cost_usd": -0.5},
                {"monthly_tokens": 1.5}, {"other": 1}):
        resp = await client.put(f"/api/users/{member.id}/quota", headers=admin.headers,
                                json=bad)
        assert resp.status_code in (400, 422), (bad, resp.text)
        assert resp.json()["code"] == "VALIDATION_ERROR"
    # a user without limits sees them as unlimited
    free = (await client.get("/api/auth/me/quota", headers=user.headers)).json()
    assert free["monthly_tokens"] is None and free["monthly_cost_usd"] is None


async def test_warning_at_80_percent_once_then_new_work_is_refused(
        client, server, register_user, admin, model_standin):
    member = await register_user()
    resp = await client.put(f"/api/users/{member.id}/quota", headers=admin.headers,
                            json={"monthly_tokens": 1000})
    assert resp.status_code == 200

    first = await _answer(client, member, model_standin, [(300, 100), (400, 50)])
    assert first["status"] == "completed", first  # 850 of 1000: warned, still allowed
    later = (await client.post("/api/tasks", headers=member.headers, json={
        "title": "later", "description": "started once the limit is used up"})).json()["task_id"]
    second = await _answer(client, member, model_standin, [(80, 20), (90, 10)])
    assert second["status"] == "completed", second  # 1050: over, after the fact

    warnings = await _warnings(server, member, second["id"])
    assert len(warnings) == 1, warnings  # once per month per limit
    warning = warnings[0]
    assert warning["quota"] == "monthly_tokens" and warning["used"] == 850
    assert warning["limit"] == 1000 and warning["percent"] == 85.0
    assert warning["resets_at"] == next_month_start()

    resp = await client.post("/api/tasks", headers=member.headers,
                             json={"title": "more", "description": "more work"})
    assert resp.status_code == 429, resp.text
    error = resp.json()
    assert error["code"] == "QUOTA_EXCEEDED"
    assert error["details"] == {"quota": "monthly_tokens", "used": 1050, "limit": 1000,
                                "resets_at": next_month_start()}
    resp = await client.post(f"/api/tasks/{later}/start", headers=member.headers)
    assert resp.status_code == 429 and resp.json()["code"] == "QUOTA_EXCEEDED", resp.text
    kept = (await client.get(f"/api/tasks/{later}", headers=member.headers)).json()
    assert kept["status"] == "created", kept  # refused, not half-started
    resp = await client.post("/api/chat", headers=member.headers, json={"message": "hi"})
    assert resp.status_code == 429 and resp.json()["code"] == "QUOTA_EXCEEDED"
    resp = await client.post("/api/chat/stream", headers=member.headers,
                             json={"message": "hi"})
    assert resp.status_code == 429 and resp.json()["code"] == "QUOTA_EXCEEDED"
    mine = (await client.get("/api/auth/me/quota", headers=member.headers)).json()
    assert mine["used"]["tokens"] == 1050 and mine["exceeded"] == ["monthly_tokens"]

    # lifting the limit lets work in again
    await client.put(f"/api/users/{member.id}/quota", headers=admin.headers,
                     json={"monthly_tokens": None})
    resp = await client.post("/api/tasks", headers=member.headers,
                             json={"title": "more", "description": "more work"})
    assert resp.status_code == 201, resp.text


async def test_running_task_fails_at_next_model_call_keeping_partial_result(
        client, server, register_user, admin, model_standin):
    member = await register_user()
    # 120b: 0.15 $ in per million tokens; plan 0.0003 $, first turn 0.00075 $ -> over 0.001 $
    resp = await client.put(f"/api/users/{member.id}/quota", headers=admin.headers,
                            json={"monthly_cost_usd": 0.001})
    assert resp.status_code == 200
    script = tag("overrun")
    model_standin.script(script, [
        {"content": "1. Write\n2. Answer", "usage": {"prompt_tokens": 2000,
                                                    "completion_tokens": 0}},
        {"tool_calls": [{"name": "workspace__write_file",
                         "arguments": {"path": f"{script}.txt", "content": "partial"}}],
         "usage": {"prompt_tokens": 5000, "completion_tokens": 0}},
        {"content": "never asked", "usage": {"prompt_tokens": 1, "completion_tokens": 1}},
    ])
    task_id = await run_task(client, member, script)
    task = await wait_for(client, member, task_id)
    assert task["status"] == "failed", task
    assert task["error"]["code"] == "QUOTA_EXCEEDED"
    assert "cost" in task["error"]["message"]
    result = task["result"]
    assert [s["kind"] for s in result["steps"]] == ["plan", "model", "tool"]
    assert result["artifacts"] == [f"{script}.txt"]
    assert result["usage"]["cost_usd"] == pytest.approx(0.00105)
    assert len(model_standin.requests(script)) == 2  # the third call was never made
    warnings = await _warnings(server, member, task_id)
    assert [w["quota"] for w in warnings] == ["monthly_cost_usd"]


async def test_chat_turn_over_the_limit_midway_answers_429(client, register_user, admin,
                                                           model_standin):
    member = await register_user()
    await client.put(f"/api/users/{member.id}/quota", headers=admin.headers,
                     json={"monthly_tokens": 100})
    script = tag("chatover")
    model_standin.script(script, [
        {"tool_calls": [{"name": "workspace__write_file",
                         "arguments": {"path": f"{script}.txt", "content": "x"}}],
         "usage": {"prompt_tokens": 140, "completion_tokens": 10}},
        {"content": "never asked"}])
    resp = await client.post("/api/chat", headers=member.headers,
                             json={"message": f"write it {marker(script)}"})
    assert resp.status_code == 429, resp.text
    assert resp.json()["code"] == "QUOTA_EXCEEDED"
    task = (await client.get(f"/api/tasks/{resp.json()['details']['task_id']}",
                             headers=member.headers)).json()
    assert task["status"] == "failed" and task["error"]["code"] == "QUOTA_EXCEEDED"
    assert [s["kind"] for s in task["result"]["steps"]] == ["model", "tool"]
    assert len(model_standin.requests(script)) == 1


async def test_a_schedule_tick_over_the_quota_is_skipped_with_the_reason(
        client, register_user, admin, model_standin):
    member = await register_user()
    spent = await _answer(client, member, model_standin, [(60, 20), (30, 10)])
    assert spent["status"] == "completed", spent
    resp = await client.put(f"/api/users/{member.id}/quota", headers=admin.headers,
                            json={"monthly_tokens": 100})
    assert resp.status_code == 200, resp.text
    schedule = await create_schedule(client, member, tag("quota-tick"), cron="* * * * * *")
    try:
        seen = await wait_runs(client, member, schedule["id"], 1, status="skipped")
    finally:
        await client.delete(f"/api/schedules/{schedule['id']}", headers=member.headers)
    skipped = [r for r in seen if r["status"] == "skipped"]
    assert skipped[0]["task_id"] is None
    assert "quota" in skipped[0]["reason"].lower(), skipped[0]
    assert all(r["status"] == "skipped" for r in seen), seen  # no task was started
    resp = await client.get("/api/tasks", headers=member.headers)
    assert [t["id"] for t in resp.json()] == [spent["id"]]
