"""Limits end a task cleanly as failed with a code; stop cancels the in-flight call."""

from __future__ import annotations

import asyncio
import time

from tests.tasks.helpers import counter_lines, run_task, tag, wait_for

PLAN = {"content": "1. Work\n2. Answer"}
LOOPING = {"tool_calls": [{"name": "counter__tally", "arguments": {"label": "again"}}],
           "usage": {"prompt_tokens": 100, "completion_tokens": 10}}


async def wait_requests(model_standin, script: str, count: int, within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while len(model_standin.requests(script)) < count:
        assert time.monotonic() < deadline, "the model was never called"
        await asyncio.sleep(0.05)


async def test_max_steps_fails_with_partial_result(client, user, model_standin, counter):
    script = tag("maxsteps")
    # different arguments each turn: identical calls in a row would be a suspected loop
    model_standin.script(script, [PLAN] + [
        {**LOOPING, "tool_calls": [{"name": "counter__tally", "arguments": {"label": f"n{n}"}}]}
        for n in range(5)])
    task_id = await run_task(client, user, script, max_steps=3)
    task = await wait_for(client, user, task_id)
    assert task["status"] == "failed"
    assert task["error"]["code"] == "MAX_STEPS_EXCEEDED"
    assert task["progress"] < 100
    tools = [s for s in task["result"]["steps"] if s["kind"] == "tool"]
    assert len(tools) == 3
    assert len(model_standin.requests(script)) == 1 + 3


async def test_token_budget_fails_the_task(client, user, model_standin, counter):
    script = tag("budget")
    model_standin.script(script, [{**PLAN, "usage": {"prompt_tokens": 100,
                                                     "completion_tokens": 10}}, LOOPING])
    task_id = await run_task(client, user, script, token_budget=300)
    task = await wait_for(client, user, task_id)
    assert task["status"] == "failed"
    assert task["error"]["code"] == "TOKEN_BUDGET_EXCEEDED"
    assert task["result"]["usage"]["total_tokens"] == 110 + 110 + 110
    assert len(model_standin.requests(script)) == 3


async def test_wall_clock_timeout_fails_the_task(client, user, model_standin):
    script = tag("timeout")
    model_standin.script(script, [PLAN, {"content": "too late", "delay": 5}])
    task_id = await run_task(client, user, script, timeout_seconds=1)
    task = await wait_for(client, user, task_id)
    assert task["status"] == "failed"
    assert task["error"]["code"] == "TASK_TIMEOUT"
    assert task["result"]["plan"] == ["Work", "Answer"]


async def test_fallback_to_the_other_model_is_recorded(client, user, model_standin):
    script = tag("fallback")
    model_standin.script(f"{script}@openai/gpt-oss-120b", [{"error": 503, "message": "down"}])
    model_standin.script(script, [PLAN, {"content": "answer from 20b"}])
    task_id = await run_task(client, user, script)
    task = await wait_for(client, user, task_id)
    assert task["status"] == "completed", task
    assert task["model"] == "gpt-oss-120b"
    assert task["result"]["answered_by"] == "gpt-oss-20b"
    assert task["result"]["answer"] == "answer from 20b"


async def test_endpoint_unavailable_fails_with_its_code(client, user, model_standin):
    script = tag("down")
    model_standin.script(script, [{"error": 503, "message": "down"}])
    task_id = await run_task(client, user, script)
    task = await wait_for(client, user, task_id)
    assert task["status"] == "failed"
    assert task["error"]["code"] == "ENDPOINT_UNAVAILABLE"


async def test_stop_during_model_call(client, user, model_standin, counter):
    script = tag("stopmodel")
    # the second call would ask for a tool after 3 s; the stop must prevent it
    late = {"tool_calls": [{"name": "counter__tally", "arguments": {"label": script}}],
            "delay": 3}
    model_standin.script(script, [PLAN, late])
    task_id = await run_task(client, user, script)
    await wait_requests(model_standin, script, 2)
    resp = await client.post(f"/api/tasks/{task_id}/stop", headers=user.headers)
    assert resp.json() == {"status": "stopped"}
    task = (await client.get(f"/api/tasks/{task_id}", headers=user.headers)).json()
    assert task["status"] == "stopped"
    await asyncio.sleep(3.5)
    task = (await client.get(f"/api/tasks/{task_id}", headers=user.headers)).json()
    assert task["status"] == "stopped"
    kinds = [s["kind"] for s in task["result"]["steps"]]
    assert kinds == ["plan"]  # done so far is kept; nothing after the stop
    assert len(model_standin.requests(script)) == 2
    assert f"tally {script}" not in counter_lines(counter)


async def test_stop_during_tool_call(client, user, model_standin, counter):
    script = tag("stoptool")
    model_standin.script(script, [
        PLAN,
        {"tool_calls": [{"name": "counter__slow", "arguments": {"seconds": 2.5}}]},
        {"content": "should never be asked"},
    ])
    task_id = await run_task(client, user, script)
    deadline = time.monotonic() + 20
    while "slow-start 2.5" not in counter_lines(counter):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    resp = await client.post(f"/api/tasks/{task_id}/stop", headers=user.headers)
    assert resp.json() == {"status": "stopped"}
    await asyncio.sleep(3.5)
    task = (await client.get(f"/api/tasks/{task_id}", headers=user.headers)).json()
    assert task["status"] == "stopped"
    assert [s["kind"] for s in task["result"]["steps"]] == ["plan", "model"]
    assert len(model_standin.requests(script)) == 2
