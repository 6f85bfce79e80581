"""Multi-agent heavy mode against the scripted model stand-in."""

from __future__ import annotations

import asyncio
import json
import uuid

from tests.heavy.helpers import orchestrate, step_of, wait_done, wait_until

M20 = "openai/gpt-oss-20b"
M120 = "openai/gpt-oss-120b"


async def script(model_standin, tag, replies):
    await asyncio.to_thread(model_standin.script, tag, replies)


async def plan_questions(model_standin, query_tag, agent_tags):
    questions = [{"angle": a, "question": f"What about {a}? [[script:{t}]]"}
                 for a, t in zip(("research", "analysis", "alternatives", "verification"),
                                 agent_tags, strict=False)]
    await script(model_standin, f"{query_tag}@{M20}",
                 [{"content": json.dumps({"questions": questions}),
                   "usage": {"prompt_tokens": 50, "completion_tokens": 40}}])


async def test_heavy_mode_synthesises_despite_a_failing_agent(client, user, model_standin):
    run = uuid.uuid4().hex[:6]
    q, a1, a2, a3 = (f"hm-{name}-{run}" for name in ("q", "a1", "a2", "a3"))
    await plan_questions(model_standin, q, [a1, a2, a3])
    await script(model_standin, a1, [{"content": "1. Look it up"},
                                     {"content": "Answer one: caching helps.",
                                      "usage": {"prompt_tokens": 30, "completion_tokens": 6}}])
    await script(model_standin, a2, [{"content": "1. Think"},
                                     {"content": "Answer two: measure first."}])
    await script(model_standin, a3, [{"error": 400, "message": "agent three is broken"}])
    await script(model_standin, f"{q}@{M120}", [{"content": "Combined: measure, then cache."}])

    started = await orchestrate(client, user, {
        "query": f"How do I make my API faster? [[script:{q}]]", "num_agents": 3,
        "config": {"timeout": 120}})
    assert started["total_steps"] == 5
    body = await wait_done(client, user, started["orchestration_id"], within=90)
    assert body["status"] == "completed", body
    assert body["mode"] == "multi_agent"
    names = [s["name"] for s in body["steps"]]
    assert names == ["Question Planning", "Agent 1: research", "Agent 2: analysis",
                     "Agent 3: alternatives", "Synthesis"]
    assert [step_of(body, n)["status"] for n in (1, 2, 3, 4, 5)] == [
        "completed", "completed", "completed", "failed", "completed"]
    for n in (2, 3, 4):
        agent = step_of(body, n)
        assert agent["task_id"].startswith("task_")
        assert agent["usage"] is not None
    assert step_of(body, 2)["usage"]["total_tokens"] >= 36
    assert "broken" in step_of(body, 4)["error"] or "failed" in step_of(body, 4)["error"]
    answer = body["answer"]
    assert answer.startswith("Combined: measure, then cache.")
    assert "1 of 3 agents did not finish" in answer and "step 4" in answer
    synthesis = next(r for r in body["results"] if r["step"] == 5)["result"]
    assert synthesis["agents_used"] == [2, 3]
    assert synthesis["missing"][0]["step"] == 4
    # The 120b model saw both finished answers; the agents ran on their own sub-questions.
    sent = await asyncio.to_thread(model_standin.requests, f"{q}")
    synth = [r for r in sent if r["model"] == M120]
    text = json.dumps(synth[-1]["messages"])
    assert "Answer one: caching helps." in text and "Answer two: measure first." in text
    agent_sent = await asyncio.to_thread(model_standin.requests, a1)
    assert "What about research?" in json.dumps(agent_sent[0]["messages"])


async def test_agents_run_in_parallel(client, user, model_standin):
    run = uuid.uuid4().hex[:6]
    q, tags = f"hp-q-{run}", [f"hp-a{i}-{run}" for i in range(3)]
    await plan_questions(model_standin, q, tags)
    for t in tags:
        await script(model_standin, t, [{"content": "1. wait", "delay": 0.5},
                                        {"content": f"done {t}", "delay": 0.5}])
    await script(model_standin, f"{q}@{M120}", [{"content": "All done."}])
    started = await orchestrate(client, user, {"query": f"Q [[script:{q}]]", "num_agents": 3})
    body = await wait_done(client, user, started["orchestration_id"], within=90)
    assert body["status"] == "completed", body
    from tests.heavy.helpers import ts

    agents = [step_of(body, n) for n in (2, 3, 4)]
    latest_start = max(ts(a["started_at"]) for a in agents)
    earliest_end = min(ts(a["completed_at"]) for a in agents)
    assert latest_start < earliest_end  # every agent was running at the same moment


async def test_stop_heavy_mode_stops_agent_tasks(client, user, model_standin):
    run = uuid.uuid4().hex[:6]
    q, a1 = f"hs-q-{run}", f"hs-a1-{run}"
    await plan_questions(model_standin, q, [a1])
    await script(model_standin, a1, [{"content": "1. wait", "delay": 60}])
    started = await orchestrate(client, user, {"query": f"Q [[script:{q}]]", "num_agents": 1})
    orch_id = started["orchestration_id"]
    body = await wait_until(client, user, orch_id,
                            lambda b: step_of(b, 2)["task_id"] is not None, within=30)
    task_id = step_of(body, 2)["task_id"]
    resp = await client.post(f"/api/heavy/orchestrations/{orch_id}/stop", headers=user.headers)
    assert resp.status_code == 200
    body = await wait_done(client, user, orch_id)
    assert body["status"] == "cancelled"
    assert step_of(body, 2)["status"] == "cancelled"
    task = await client.get(f"/api/tasks/{task_id}", headers=user.headers)
    assert task.status_code == 200
    assert task.json()["status"] == "stopped"


async def test_heavy_mode_hidden_from_other_users(client, user, other_user, model_standin):
    run = uuid.uuid4().hex[:6]
    q, a1 = f"ho-q-{run}", f"ho-a1-{run}"
    await plan_questions(model_standin, q, [a1])
    await script(model_standin, a1, [{"content": "1. x"}, {"content": "fine"}])
    await script(model_standin, f"{q}@{M120}", [{"content": "ok"}])
    started = await orchestrate(client, user, {"query": f"Q [[script:{q}]]", "num_agents": 1})
    resp = await client.get("/api/heavy/progress", headers=other_user.headers,
                            params={"orchestration_id": started["orchestration_id"]})
    assert resp.status_code == 404
    assert resp.json()["code"] == "NOT_FOUND"
    await wait_done(client, user, started["orchestration_id"], within=60)


async def test_slow_agent_times_out_alone(client, user, model_standin):
    run = uuid.uuid4().hex[:6]
    q, fast, slow = f"ht-q-{run}", f"ht-fast-{run}", f"ht-slow-{run}"
    await plan_questions(model_standin, q, [fast, slow])
    await script(model_standin, fast, [{"content": "1. x"}, {"content": "Quick answer."}])
    await script(model_standin, slow, [{"content": "1. x", "delay": 60}])
    await script(model_standin, f"{q}@{M120}", [{"content": "Partial synthesis."}])
    started = await orchestrate(client, user, {"query": f"Q [[script:{q}]]", "num_agents": 2,
                                               "config": {"timeout": 20}})
    body = await wait_done(client, user, started["orchestration_id"], within=60)
    assert body["status"] == "completed", body
    assert step_of(body, 2)["status"] == "completed"
    assert step_of(body, 3)["status"] == "failed"
    assert body["answer"].startswith("Partial synthesis.")
    assert "1 of 2 agents did not finish" in body["answer"]


async def test_agent_tool_executes_one_sub_agent(client, user, model_standin):
    tag = f"hx-{uuid.uuid4().hex[:6]}"
    await script(model_standin, tag, [{"content": "1. answer"},
                                      {"content": "The answer is 42."}])
    resp = await client.post("/api/heavy/tools/execute", headers=user.headers, json={
        "tool_name": "agent", "parameters": {"task": f"What is the answer? [[script:{tag}]]"}})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["success"] is True, body
    assert body["result"]["answer"] == "The answer is 42."
    task = await client.get(f"/api/tasks/{body['result']['task_id']}", headers=user.headers)
    assert task.json()["status"] == "completed"
