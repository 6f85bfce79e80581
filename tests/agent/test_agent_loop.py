"""The agent loop end to end: the stand-in model scripts, the real hub runs the tools."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from tests.tasks.helpers import counter_lines, run_task, tag, task_events, wait_for

PLAN = {"content": "1. Tally the start\n2. Write the notes\n3. Answer",
        "usage": {"prompt_tokens": 50, "completion_tokens": 10}}


async def test_multi_step_task_with_tools_completes_with_result(client, user, model_standin,
                                                                counter, server):
    script = tag("multi")
    model_standin.script(script, [
        PLAN,
        {"tool_calls": [{"name": "counter__tally", "arguments": {"label": script}}],
         "reasoning": "count first", "usage": {"prompt_tokens": 100, "completion_tokens": 20}},
        {"tool_calls": [{"name": "workspace__write_file",
                         "arguments": {"path": f"{script}.txt", "content": "notes"}}],
         "usage": {"prompt_tokens": 120, "completion_tokens": 30}},
        {"content": "All done: notes written.",
         "usage": {"prompt_tokens": 140, "completion_tokens": 40}},
    ])
    task_id = await run_task(client, user, script)
    task = await wait_for(client, user, task_id)
    assert task["status"] == "completed", task
    assert task["progress"] == 100
    assert task["phase"] is None
    result = task["result"]
    assert result["answer"] == "All done: notes written."
    assert result["answered_by"] == "gpt-oss-120b"
    assert task["plan"] == ["Tally the start", "Write the notes", "Answer"]
    tools = [s for s in result["steps"] if s["kind"] == "tool"]
    assert [(s["tool"], s["outcome"]) for s in tools] == [
        ("counter.tally", "ok"), ("workspace.write_file", "ok")]
    assert script in tools[0]["output"]
    assert result["artifacts"] == [f"{script}.txt"]
    assert result["usage"]["prompt_tokens"] == 50 + 100 + 120 + 140
    assert result["usage"]["completion_tokens"] == 10 + 20 + 30 + 40
    # default prices of gpt-oss-120b: 0.15 $ in / 0.60 $ out per million tokens
    assert result["usage"]["cost_usd"] == pytest.approx((410 * 0.15 + 100 * 0.60) / 1e6)
    models = [s for s in result["steps"] if s["kind"] in ("plan", "model")]
    assert all(s["usage"]["total_tokens"] > 0 for s in models)
    assert counter_lines(counter).count(f"tally {script}") == 1

    # the model saw the tool results, its own reasoning and the tools it was offered
    requests = model_standin.requests(script)
    assert len(requests) == 4
    last = requests[-1]["messages"]
    tool_messages = [m for m in last if m["role"] == "tool"]
    assert script in tool_messages[0]["content"]
    assert any(m.get("reasoning_content") == "count first" for m in last)
    offered = {t["function"]["name"] for t in requests[1]["tools"]}
    assert {"counter__tally", "workspace__write_file"} <= offered

    # every change went out as a task_update; progress never went backwards
    events = await task_events(server, task_id)
    progress = [e["progress"] for e in events]
    assert progress == sorted(progress)
    assert progress[-1] == 100
    assert [e["status"] for e in events][-1] == "completed"
    assert "planning" in [e["phase"] for e in events]
    assert "acting" in [e["phase"] for e in events]
    assert any("step" in e for e in events)
    created = await task_events(server, task_id, "task_created")
    assert len(created) == 1 and created[0]["user_id"] == str(user.id)
    completed = await task_events(server, task_id, "task_completed")
    assert [e["status"] for e in completed] == ["completed"]
    ran_for = (datetime.fromisoformat(task["completed_at"].replace("Z", "+00:00"))
               - datetime.fromisoformat(task["started_at"].replace("Z", "+00:00")))
    assert completed[0]["duration"] == pytest.approx(ran_for.total_seconds(), abs=0.002)
    assert completed[0]["duration"] > 0 and completed[0]["user_id"] == str(user.id)
    assert all(e["user_id"] == str(user.id) for e in events)
    assert max(p for p, e in zip(progress, events, strict=True)
               if e["status"] == "running") < 100


async def test_malformed_tool_calls_are_answered_not_fatal(client, user, model_standin, counter):
    script = tag("malformed")
    model_standin.script(script, [
        PLAN,
        {"tool_calls": [{"name": "counter__tally", "arguments": "{not json"}]},
        {"tool_calls": [{"name": "no_such_tool", "arguments": {}}]},
        {"tool_calls": [{"name": "counter__tally", "arguments": {"wrong": 1}}]},
        {"tool_calls": [{"name": "counter__tally", "arguments": {"label": script}}]},
        {"content": "recovered"},
    ])
    task_id = await run_task(client, user, script)
    task = await wait_for(client, user, task_id)
    assert task["status"] == "completed", task
    outcomes = [s["outcome"] for s in task["result"]["steps"] if s["kind"] == "tool"]
    assert outcomes == ["invalid_call", "invalid_call", "invalid_call", "ok"]
    requests = model_standin.requests(script)
    errors = [m["content"] for m in requests[-1]["messages"] if m["role"] == "tool"]
    assert "not valid JSON" in errors[0]
    assert "unknown tool 'no_such_tool'" in errors[1]
    assert "invalid arguments for counter__tally" in errors[2]
    assert "'label' is a required property" in errors[2]  # the hub's one schema check
    assert counter_lines(counter).count(f"tally {script}") == 1


async def test_long_tool_output_is_truncated_with_a_note(client, user, model_standin, counter):
    script = tag("bulk")
    model_standin.script(script, [
        PLAN,
        {"tool_calls": [{"name": "counter__bulk", "arguments": {"n": 50_000}}]},
        {"content": "ok"},
    ])
    task_id = await run_task(client, user, script)
    assert (await wait_for(client, user, task_id))["status"] == "completed"
    tool_message = [m for m in model_standin.requests(script)[-1]["messages"]
                    if m["role"] == "tool"][0]["content"]
    assert "[output truncated: showing 8000 of" in tool_message
    assert len(tool_message) < 9000


async def test_tool_allow_list_limits_what_the_model_is_offered(client, user, model_standin,
                                                                counter):
    script = tag("allow")
    model_standin.script(script, [PLAN, {"content": "fine"}])
    task_id = await run_task(client, user, script, tools=["counter.tally"])
    assert (await wait_for(client, user, task_id))["status"] == "completed"
    offered = [t["function"]["name"] for t in model_standin.requests(script)[1]["tools"]]
    assert offered == ["counter__tally"]
    assert json.dumps(offered)
