"""Tool policies and approvals over HTTP, on the shared server with the effects MCP server."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.approvals.helpers import (
    PLAN,
    call,
    effect_lines,
    effects_entry,
    tool_messages,
    turn,
    wait_pending,
)
from tests.realtime.helpers import SSEReader
from tests.realtime.test_socketio import Recorder
from tests.tasks.helpers import run_task as run_script_task
from tests.tasks.helpers import tag, task_events, wait_for


async def run_task(client, user, script: str, **extra):
    """A scripted task offered the effects servers' tools only (more tools than the search
    threshold would have the hub pick some by relevance)."""
    return await run_script_task(client, user, script,
                                 **{"tools": ["effects.*", "locked.*"], **extra})


@pytest.fixture(scope="module")
def effects(server, data_dir):
    """`effects` (record, wipe: destructive, peek: read, sync: idempotent; `record` asks)
    and `locked` (every tool denied by the server) plugged into the shared hub, their
    entries read as mcp.json entries (the `"approval"` key included)."""
    from crazy_gary.toolhub import get_hub
    from crazy_gary.toolhub.servers import parse_server

    hub = get_hub()
    log_file = data_dir / f"effects-{tag()}.log"
    configs = [parse_server("effects", effects_entry(log_file, {"record": "ask"})),
               parse_server("locked", effects_entry(log_file, "deny"))]
    for config in configs:
        server.run_coro(hub.add_server(config))
    deadline = time.monotonic() + 30
    while not all(any(t.name == "peek" for t in hub.list_tools())
                  and c.name in [t.client for t in hub.list_tools()] for c in configs):
        assert time.monotonic() < deadline, "effects servers never connected"
        time.sleep(0.1)
    yield log_file
    for config in configs:
        server.run_coro(hub.remove_server(config.name))


async def test_catalogue_shows_effects(client, user, effects):
    resp = await client.get("/api/mcp/tools/effects", headers=user.headers)
    assert resp.status_code == 200, resp.text
    effects_by_name = {t["name"]: t["effects"] for t in resp.json()}
    assert effects_by_name == {"record": "write", "wipe": "write", "peek": "read",
                               "sync": "idempotent"}
    resp = await client.get("/api/mcp/tools/workspace", headers=user.headers)
    assert {t["name"]: t["effects"] for t in resp.json()} == {
        "list_files": "read", "read_file": "read", "write_file": "idempotent",
        "search_code": "read"}


@pytest.mark.parametrize("policy", [
    {"rules": [{"match": "effects.*", "action": "maybe"}]},
    {"rules": [{"match": "effects.[abc", "action": "ask"}]},
    {"rules": [{"match": "", "action": "ask"}]},
    {"default": "sometimes"},
    {"rules": [{"match": "effects.*"}]},
])
async def test_bad_task_policy_is_400_and_creates_nothing(client, register_user, policy):
    someone = await register_user()
    resp = await client.post("/api/tasks", headers=someone.headers, json={
        "title": "t", "description": "d", "tool_policy": policy})
    assert resp.status_code in (400, 422), resp.text
    assert resp.json()["code"] == "VALIDATION_ERROR"
    listed = await client.get("/api/tasks", headers=someone.headers)
    assert listed.json() == []


async def test_allowed_tools_run_and_task_deny_answers_the_model(
        client, user, model_standin, effects):
    script = tag("deny")
    model_standin.script(script, [
        PLAN, turn(call("peek", script), call("sync", script)), {"content": "done"}])
    task_id = await run_task(client, user, script, tool_policy={
        "default": "allow", "rules": [{"match": "effects.sync", "action": "deny"}]})
    task = await wait_for(client, user, task_id)
    assert task["status"] == "completed", task
    assert effect_lines(effects).count(f"peek {script}") == 1
    assert f"sync {script}" not in effect_lines(effects)
    results = tool_messages(model_standin.requests(script)[-1])
    assert f"peek done: {script}" in results[0]
    assert results[1].startswith("Not allowed: effects.sync")
    outcomes = [s["outcome"] for s in task["result"]["steps"] if s["kind"] == "tool"]
    assert outcomes == ["ok", "not_allowed"]


async def test_server_deny_cannot_be_loosened_by_the_task(client, user, model_standin, effects):
    script = tag("locked")
    model_standin.script(script, [
        PLAN, turn(call("peek", script, client="locked")), {"content": "done"}])
    task_id = await run_task(client, user, script, tool_policy={
        "default": "allow", "rules": [{"match": "locked.*", "action": "allow"}]})
    task = await wait_for(client, user, task_id)
    assert task["status"] == "completed"
    assert f"peek {script}" not in effect_lines(effects)
    assert tool_messages(model_standin.requests(script)[-1])[0].startswith(
        "Not allowed: locked.peek")


async def test_ask_approve_with_edited_arguments(client, user, other_user, model_standin,
                                                 effects, server):
    """Server rule `record: ask`: the task waits; the owner approves with edited arguments
    (checked against the schema); events go out over SSE and socket.io."""
    script = tag("approve")
    model_standin.script(script, [
        PLAN, turn(call("record", f"{script}-asked"), content="I will record it."),
        {"content": "recorded"}])
    recorder = Recorder(events=("approval_requested", "approval_decided", "task_update"))
    await recorder.sio.connect(server.url, auth={"token": user.token},
                               transports=["websocket"])
    try:
        async with SSEReader(server.url + "/api/observability/events/stream",
                             token=user.token) as sse:
            task_id = await run_task(client, user, script)
            [pending] = await wait_pending(client, user, task_id)
            assert pending["tool"] == "effects.record"
            assert pending["arguments"] == {"label": f"{script}-asked"}
            assert pending["reason"] == "I will record it."
            assert pending["status"] == "pending" and pending["expires_at"]
            assert effect_lines(effects).count(f"record {script}-asked") == 0
            approval_id = pending["id"]

            # another user's approval is not found, reading or deciding
            assert (await client.get(f"/api/approvals/{approval_id}",
                                     headers=other_user.headers)).status_code == 404
            resp = await client.post(f"/api/approvals/{approval_id}", headers=other_user.headers,
                                     json={"decision": "approve"})
            assert resp.status_code == 404
            assert resp.json()["code"] == "APPROVAL_NOT_FOUND"
            listed = await client.get("/api/approvals?status=pending", headers=user.headers)
            assert approval_id in [a["id"] for a in listed.json()]

            # edited arguments that break the tool's schema: 400, nothing decided
            resp = await client.post(f"/api/approvals/{approval_id}", headers=user.headers,
                                     json={"decision": "approve", "arguments": {"label": 5}})
            assert resp.status_code == 400, resp.text
            assert resp.json()["code"] == "VALIDATION_ERROR"

            resp = await client.post(f"/api/approvals/{approval_id}", headers=user.headers,
                                     json={"decision": "approve",
                                           "arguments": {"label": f"{script}-edited"}})
            assert resp.status_code == 200, resp.text
            assert resp.json()["status"] == "approved"
            again = await client.post(f"/api/approvals/{approval_id}", headers=user.headers,
                                      json={"decision": "deny"})
            assert again.status_code == 409
            assert again.json()["code"] == "CONFLICT"

            task = await wait_for(client, user, task_id)
            await sse.wait_for(lambda f: f["event"] == "approval_requested"
                               and f["data"]["id"] == approval_id)
            await sse.wait_for(lambda f: f["event"] == "approval_decided"
                               and f["data"]["status"] == "approved")
        await recorder.wait_for(lambda e, d: e == "approval_requested" and d["id"] == approval_id)
        await recorder.wait_for(lambda e, d: e == "approval_decided" and d["id"] == approval_id)
        await recorder.wait_for(lambda e, d: e == "task_update" and d["task_id"] == task_id
                                and d["phase"] == "awaiting_approval")
    finally:
        await recorder.sio.disconnect()
    assert task["status"] == "completed", task
    assert task["pending_approvals"] == []
    lines = effect_lines(effects)
    assert lines.count(f"record {script}-edited") == 1
    assert f"record {script}-asked" not in lines
    [result] = tool_messages(model_standin.requests(script)[-1])
    assert f"record done: {script}-edited" in result


async def test_destructive_tool_asks_and_deny_tells_the_model(client, user, model_standin,
                                                              effects, server):
    script = tag("wipe")
    model_standin.script(script, [PLAN, turn(call("wipe", script)), {"content": "fine"}])
    task_id = await run_task(client, user, script)
    [pending] = await wait_pending(client, user, task_id)
    resp = await client.post(f"/api/approvals/{pending['id']}", headers=user.headers,
                             json={"decision": "deny", "comment": "not today"})
    assert resp.status_code == 200
    assert resp.json()["comment"] == "not today"
    task = await wait_for(client, user, task_id)
    assert task["status"] == "completed"
    assert f"wipe {script}" not in effect_lines(effects)
    [told] = tool_messages(model_standin.requests(script)[-1])
    assert "declined" in told and "not today" in told
    decided = await task_events(server, task_id, "approval_decided")
    assert [e["status"] for e in decided] == ["denied"]
    phases = [e["phase"] for e in await task_events(server, task_id)]
    assert "awaiting_approval" in phases


async def test_expired_approval_counts_as_denied(client, user, model_standin, effects):
    script = tag("expire")
    model_standin.script(script, [PLAN, turn(call("wipe", script)), {"content": "gave up"}])
    task_id = await run_task(client, user, script, approval_timeout_seconds=1)
    [pending] = await wait_pending(client, user, task_id)
    task = await wait_for(client, user, task_id)
    assert task["status"] == "completed"
    got = (await client.get(f"/api/approvals/{pending['id']}", headers=user.headers)).json()
    assert got["status"] == "expired"
    resp = await client.post(f"/api/approvals/{pending['id']}", headers=user.headers,
                             json={"decision": "approve"})
    assert resp.status_code == 409
    assert f"wipe {script}" not in effect_lines(effects)
    assert "in time" in tool_messages(model_standin.requests(script)[-1])[0]


async def test_stop_while_waiting_cancels_the_approvals(client, user, model_standin, effects):
    script = tag("stopwait")
    model_standin.script(script, [PLAN, turn(call("wipe", script)), {"content": "never"}])
    task_id = await run_task(client, user, script)
    [pending] = await wait_pending(client, user, task_id)
    started = time.monotonic()
    resp = await client.post(f"/api/tasks/{task_id}/stop", headers=user.headers)
    assert resp.status_code == 200
    task = await wait_for(client, user, task_id, within=2.0)
    assert task["status"] == "stopped"
    assert time.monotonic() - started < 2.0
    got = (await client.get(f"/api/approvals/{pending['id']}", headers=user.headers)).json()
    assert got["status"] == "cancelled"
    resp = await client.post(f"/api/approvals/{pending['id']}", headers=user.headers,
                             json={"decision": "approve"})
    assert resp.status_code == 409
    await asyncio.sleep(0.5)
    assert len(model_standin.requests(script)) == 2  # the plan and the one turn: nothing after
    assert f"wipe {script}" not in effect_lines(effects)


async def test_parallel_calls_get_one_approval_each(client, user, model_standin, effects):
    script = tag("parallel")
    model_standin.script(script, [
        PLAN, turn(call("wipe", f"{script}-a"), call("peek", f"{script}-p"),
                   call("wipe", f"{script}-b")),
        {"content": "both decided"}])
    task_id = await run_task(client, user, script)
    pending = await wait_pending(client, user, task_id, count=2)
    assert len(pending) == 2
    assert len({p["tool_call_id"] for p in pending}) == 2
    by_label = {p["arguments"]["label"]: p["id"] for p in pending}
    resp = await client.post(f"/api/approvals/{by_label[f'{script}-b']}", headers=user.headers,
                             json={"decision": "approve"})
    assert resp.status_code == 200
    await asyncio.sleep(0.5)
    body = (await client.get(f"/api/tasks/{task_id}", headers=user.headers)).json()
    assert body["phase"] == "awaiting_approval"
    assert [p["id"] for p in body["pending_approvals"]] == [by_label[f"{script}-a"]]
    assert not [line for line in effect_lines(effects) if script in line]
    resp = await client.post(f"/api/approvals/{by_label[f'{script}-a']}", headers=user.headers,
                             json={"decision": "deny"})
    assert resp.status_code == 200
    task = await wait_for(client, user, task_id)
    assert task["status"] == "completed"
    lines = [line for line in effect_lines(effects) if script in line]
    assert lines == [f"peek {script}-p", f"wipe {script}-b"]
    told = tool_messages(model_standin.requests(script)[-1])
    assert "declined" in told[0]
    assert f"peek done: {script}-p" in told[1] and f"wipe done: {script}-b" in told[2]


async def test_repeated_call_is_put_to_a_person(client, user, model_standin, effects):
    script = tag("loop")
    same = turn(call("peek", script))
    model_standin.script(script, [PLAN, same, same, same, {"content": "changed course"}])
    task_id = await run_task(client, user, script)
    [pending] = await wait_pending(client, user, task_id)
    assert pending["reason"] == "loop_suspected"
    assert effect_lines(effects).count(f"peek {script}") == 2
    resp = await client.post(f"/api/approvals/{pending['id']}", headers=user.headers,
                             json={"decision": "deny"})
    assert resp.status_code == 200
    task = await wait_for(client, user, task_id)
    assert task["status"] == "completed"
    assert effect_lines(effects).count(f"peek {script}") == 2
    assert "Change course" in tool_messages(model_standin.requests(script)[-1])[-1]


async def test_admin_lists_everyones_approvals(client, user, admin, model_standin, effects):
    script = tag("adminlist")
    model_standin.script(script, [PLAN, turn(call("wipe", script)), {"content": "ok"}])
    task_id = await run_task(client, user, script)
    [pending] = await wait_pending(client, user, task_id)
    resp = await client.get("/api/approvals?scope=all&status=pending", headers=admin.headers)
    assert pending["id"] in [a["id"] for a in resp.json()]
    assert (await client.get("/api/approvals?scope=all",
                             headers=user.headers)).status_code == 403
    assert (await client.get("/api/approvals?status=bogus",
                             headers=user.headers)).status_code in (400, 422)
    await client.post(f"/api/tasks/{task_id}/stop", headers=user.headers)


async def test_waiting_for_a_person_does_not_count_against_the_wall_clock(
        client, user, model_standin, effects):
    script = tag("clock")
    model_standin.script(script, [PLAN, turn(call("wipe", script)), {"content": "in time"}])
    task_id = await run_task(client, user, script, timeout_seconds=2)
    [pending] = await wait_pending(client, user, task_id)
    await asyncio.sleep(2.5)  # past the task's own limit while it waits for the decision
    resp = await client.post(f"/api/approvals/{pending['id']}", headers=user.headers,
                             json={"decision": "approve"})
    assert resp.status_code == 200
    task = await wait_for(client, user, task_id)
    assert task["status"] == "completed", task
    assert effect_lines(effects).count(f"wipe {script}") == 1
