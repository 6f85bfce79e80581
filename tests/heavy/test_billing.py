"""Heavy mode's own model calls (question planning, synthesis, llm_generate) are metered
like an agent's: billed to the user, and refused once a monthly quota is used up."""

from __future__ import annotations

import asyncio
import uuid

from tests.heavy.helpers import orchestrate, step_of, wait_done
from tests.heavy.test_multi_agent import M120, plan_questions, script


def llm_workflow(tag: str) -> dict:
    return {"workflow": [{"step": 1, "tool": "llm_generate",
                          "parameters": {"prompt": f"Summarise. [[script:{tag}]]",
                                         "model": "gpt-oss-20b", "allow_fallback": False}}]}


def tokens(prompt: int, completion: int) -> dict[str, int]:
    return {"prompt_tokens": prompt, "completion_tokens": completion}


async def used_tokens(client, user) -> tuple[int, list[str]]:
    body = (await client.get("/api/auth/me/quota", headers=user.headers)).json()
    return body["used"]["tokens"], body["exceeded"]


async def test_llm_steps_are_billed_and_a_used_up_quota_refuses_heavy_work(
        client, register_user, admin, model_standin):
    member = await register_user()
    resp = await client.put(f"/api/users/{member.id}/quota", headers=admin.headers,
                            json={"monthly_tokens": 1000})
    assert resp.status_code == 200, resp.text
    run = uuid.uuid4().hex[:6]
    first, second, third = (f"hb-{n}-{run}" for n in (1, 2, 3))
    await script(model_standin, first, [{"content": "short", "usage": tokens(300, 100)}])
    await script(model_standin, second, [{"content": "long", "usage": tokens(500, 300)}])
    await script(model_standin, third, [{"content": "never sent"}])

    body = await wait_done(client, member, (await orchestrate(
        client, member, llm_workflow(first)))["orchestration_id"])
    assert body["status"] == "completed", body
    assert await used_tokens(client, member) == (400, [])
    usage = (await client.get("/api/usage", params={"group_by": "model"},
                              headers=member.headers)).json()
    assert usage["totals"]["model_calls"] == 1 and usage["totals"]["total_tokens"] == 400
    assert usage["totals"]["tasks"] == 0  # billed to the user, not to a task

    # the call that crosses the limit completes (its cost is known only after it)
    body = await wait_done(client, member, (await orchestrate(
        client, member, llm_workflow(second)))["orchestration_id"])
    assert body["status"] == "completed", body
    assert await used_tokens(client, member) == (1200, ["monthly_tokens"])

    resp = await client.post("/api/heavy/orchestrate", headers=member.headers,
                             json=llm_workflow(third))
    assert resp.status_code == 429, resp.text
    assert resp.json()["code"] == "QUOTA_EXCEEDED"
    assert resp.json()["details"]["quota"] == "monthly_tokens"

    resp = await client.post("/api/heavy/tools/execute", headers=member.headers, json={
        "tool_name": "llm_generate",
        "parameters": {"prompt": f"Summarise. [[script:{third}]]", "model": "gpt-oss-20b"}})
    assert resp.status_code == 200, resp.text
    assert resp.json()["success"] is False
    assert "quota reached" in resp.json()["error"]
    assert await asyncio.to_thread(model_standin.requests, third) == []
    assert await used_tokens(client, member) == (1200, ["monthly_tokens"])


async def test_a_multi_agent_run_bills_its_planning_and_synthesis(client, user, model_standin):
    run = uuid.uuid4().hex[:6]
    q, a1 = f"hb-q-{run}", f"hb-a1-{run}"
    before, _ = await used_tokens(client, user)
    await plan_questions(model_standin, q, [a1])  # 50 + 40 tokens
    await script(model_standin, a1, [{"content": "1. Look"},
                                     {"content": "Agent answer.", "usage": tokens(30, 6)}])
    await script(model_standin, f"{q}@{M120}", [{"content": "Combined.",
                                                "usage": tokens(70, 20)}])
    started = await orchestrate(client, user, {"query": f"Q [[script:{q}]]", "num_agents": 1})
    body = await wait_done(client, user, started["orchestration_id"], within=90)
    assert body["status"] == "completed", body
    agent_tokens = step_of(body, 2)["usage"]["total_tokens"]
    assert agent_tokens >= 36
    after, _ = await used_tokens(client, user)
    assert after - before == 90 + agent_tokens + 90
