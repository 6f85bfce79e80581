"""GET /api/usage: the ledger's sums against the model stand-in's reported usage, by day,
model, tool and user; users see their own, admins anyone's or everyone's."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.tasks.helpers import marker, run_task, tag, wait_for

# default prices, USD per million tokens
PRICE_120B = (0.15, 0.60)
PRICE_20B = (0.05, 0.20)


def cost(price: tuple[float, float], prompt: int, completion: int) -> float:
    return (prompt * price[0] + completion * price[1]) / 1e6


async def _work(client, user, model_standin) -> dict:
    """One task on 120b (plan, a tool call, an answer) and one chat turn on 20b."""
    script = tag("usage")
    model_standin.script(script, [
        {"content": "1. Write\n2. Answer", "usage": {"prompt_tokens": 50, "completion_tokens": 10}},
        {"tool_calls": [{"name": "workspace__write_file",
                         "arguments": {"path": f"{script}.txt", "content": "x"}}],
         "usage": {"prompt_tokens": 100, "completion_tokens": 20}},
        {"content": "Done.", "usage": {"prompt_tokens": 140, "completion_tokens": 40}},
    ])
    task_id = await run_task(client, user, script)
    task = await wait_for(client, user, task_id)
    assert task["status"] == "completed", task
    chat_script = tag("usagechat")
    model_standin.script(chat_script, [
        {"content": "Hi.", "usage": {"prompt_tokens": 300, "completion_tokens": 70}}])
    resp = await client.post("/api/chat", headers=user.headers, json={
        "message": f"hello {marker(chat_script)}", "model": "gpt-oss-20b"})
    assert resp.status_code == 200, resp.text
    return {"task_id": task_id, "chat_task_id": resp.json()["task_id"]}


async def test_usage_sums_by_model_tool_day_and_user(client, register_user, admin,
                                                    model_standin):
    user = await register_user()
    await _work(client, user, model_standin)

    resp = await client.get("/api/usage", headers=user.headers, params={"group_by": "model"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["user_id"] == user.id and body["group_by"] == "model"
    totals = body["totals"]
    assert totals["prompt_tokens"] == 50 + 100 + 140 + 300
    assert totals["completion_tokens"] == 10 + 20 + 40 + 70
    assert totals["total_tokens"] == 590 + 140
    assert totals["tasks"] == 2  # the chat turn counts as a task
    assert totals["model_calls"] == 4 and totals["tool_calls"] == 1
    task_cost, chat_cost = cost(PRICE_120B, 290, 70), cost(PRICE_20B, 300, 70)
    assert totals["cost_usd"] == pytest.approx(task_cost + chat_cost)
    by_model = {g["key"]: g for g in body["groups"]}
    assert set(by_model) == {"gpt-oss-120b", "gpt-oss-20b", None}
    assert by_model["gpt-oss-120b"]["prompt_tokens"] == 290
    assert by_model["gpt-oss-120b"]["completion_tokens"] == 70
    assert by_model["gpt-oss-120b"]["cost_usd"] == pytest.approx(task_cost)
    assert by_model["gpt-oss-120b"]["model_calls"] == 3
    assert by_model["gpt-oss-20b"]["cost_usd"] == pytest.approx(chat_cost)
    assert by_model["gpt-oss-20b"]["total_tokens"] == 370
    assert by_model[None]["tool_calls"] == 1 and by_model[None]["total_tokens"] == 0
    assert body["groups"][-1]["key"] is None  # calls without a model come last

    by_tool = {g["key"]: g for g in (await client.get(
        "/api/usage", headers=user.headers, params={"group_by": "tool"})).json()["groups"]}
    assert by_tool["workspace.write_file"]["tool_calls"] == 1
    assert by_tool["workspace.write_file"]["tasks"] == 1
    assert by_tool[None]["model_calls"] == 4

    today = datetime.now(UTC).date().isoformat()
    days = (await client.get("/api/usage", headers=user.headers,
                             params={"group_by": "day"})).json()["groups"]
    assert [d["key"] for d in days] == [today]
    assert days[0]["total_tokens"] == 730 and days[0]["tasks"] == 2

    # a period before the work: nothing
    empty = (await client.get("/api/usage", headers=user.headers,
                              params={"from": "2020-01-01", "to": "2020-02-01"})).json()
    assert empty["totals"]["total_tokens"] == 0 and empty["totals"]["tasks"] == 0

    # an admin: this user's numbers, or everyone's grouped by user
    theirs = (await client.get("/api/usage", headers=admin.headers,
                               params={"user_id": user.id})).json()
    assert theirs["totals"] == totals
    everyone = await client.get("/api/usage", headers=admin.headers,
                                params={"scope": "all", "group_by": "user"})
    assert everyone.status_code == 200, everyone.text
    by_user = {g["key"]: g for g in everyone.json()["groups"]}
    assert by_user[str(user.id)]["total_tokens"] == 730
    assert everyone.json()["user_id"] is None
    assert everyone.json()["totals"]["total_tokens"] >= 730


async def test_a_user_sees_only_their_own_usage(client, register_user, model_standin):
    user, other = await register_user(), await register_user()
    await _work(client, user, model_standin)
    mine = (await client.get("/api/usage", headers=other.headers)).json()
    assert mine["user_id"] == other.id and mine["totals"]["total_tokens"] == 0
    for params in ({"user_id": user.id}, {"scope": "all"}):
        resp = await client.get("/api/usage", headers=other.headers, params=params)
        assert resp.status_code == 403, resp.text
        assert resp.json()["code"] == "INSUFFICIENT_PERMISSIONS"
    own = await client.get("/api/usage", headers=other.headers, params={"user_id": other.id})
    assert own.status_code == 200


async def test_bad_usage_queries_answer_in_the_error_format(client, user, admin):
    for params in ({"group_by": "week"}, {"from": "yesterday"}, {"scope": "some"},
                   {"from": "2026-02-01", "to": "2026-01-01"}, {"user_id": "x"}):
        resp = await client.get("/api/usage", headers=user.headers, params=params)
        assert resp.status_code in (400, 422), (params, resp.text)
        assert resp.json()["code"] == "VALIDATION_ERROR"
    resp = await client.get("/api/usage", headers=admin.headers,
                            params={"user_id": 2_000_000_000})
    assert resp.status_code == 404
    resp = await client.get("/api/usage")
    assert resp.status_code == 401
