"""Retry meets tool policies: a refused call is carried over like any recorded call, and a
task stopped while it waited for a person asks again, under the retry's own id."""

from __future__ import annotations

from tests.approvals.helpers import wait_pending
from tests.tasks.helpers import counter_lines, run_task, tag, wait_for
from tests.tasks.test_retry import PLAN, assistants, retry, tally, wait_requests


async def test_a_refused_call_is_carried_over_and_only_the_failed_call_is_sent_again(
        client, user, model_standin, counter):
    script = tag("retry-deny")
    denied = {"tool_policy": {"rules": [{"match": "counter.tally", "action": "deny"}]}}
    model_standin.script(script, [PLAN, tally(f"{script}-1"), {"error": 503, "message": "down"}],
                         by="turn")
    failed_id = await run_task(client, user, script, **denied)
    failed = await wait_for(client, user, failed_id)
    assert failed["status"] == "failed", failed
    assert [(s["kind"], s["outcome"]) for s in failed["result"]["steps"]] == [
        ("plan", "ok"), ("model", "ok"), ("tool", "not_allowed")]
    sent_before = len(model_standin.requests(script))

    model_standin.script(script, [PLAN, tally(f"{script}-1"), {"content": "done without it"}],
                         by="turn")
    task = await wait_for(client, user, await retry(client, user, failed_id))
    assert task["status"] == "completed", task
    assert task["result"]["answer"] == "done without it"
    requests = model_standin.requests(script)[sent_before:]
    assert len(requests) == 1 and assistants(requests[0]) == 2
    assert [s["outcome"] for s in task["result"]["steps"]] == ["ok", "ok", "not_allowed", "ok"]
    assert not [line for line in counter_lines(counter) if script in line]
    # the refused call was not billed as a tool call
    usage = await client.get("/api/usage", headers=user.headers, params={"group_by": "tool"})
    assert usage.status_code == 200, usage.text
    report = usage.json()
    assert report["totals"]["tool_calls"] == 0, report
    # the plan and the refused turn (the failed call recorded nothing), then the answer
    assert report["totals"]["model_calls"] == 3, report


async def test_a_task_stopped_while_awaiting_approval_asks_again_when_retried(
        client, user, model_standin, counter):
    script = tag("retry-ask")
    ask = {"tool_policy": {"rules": [{"match": "counter.tally", "action": "ask"}]}}
    model_standin.script(script, [PLAN, tally(f"{script}-1"), {"content": "tallied"}], by="turn")
    stopped_id = await run_task(client, user, script, **ask)
    (first,) = await wait_pending(client, user, stopped_id)
    resp = await client.post(f"/api/tasks/{stopped_id}/stop", headers=user.headers)
    assert resp.status_code == 200, resp.text
    assert (await wait_for(client, user, stopped_id))["status"] == "stopped"
    sent_before = len(model_standin.requests(script))

    retry_id = await retry(client, user, stopped_id)
    (second,) = await wait_pending(client, user, retry_id)
    assert second["id"] != first["id"] and second["task_id"] == retry_id
    old = await client.get(f"/api/approvals/{first['id']}", headers=user.headers)
    assert old.json()["status"] == "cancelled"
    resp = await client.post(f"/api/approvals/{second['id']}", headers=user.headers,
                             json={"decision": "approve"})
    assert resp.status_code == 200, resp.text
    task = await wait_for(client, user, retry_id)
    assert task["status"] == "completed", task
    assert task["result"]["answer"] == "tallied"
    # the plan and the turn that asked were carried over: only the answer was asked for
    await wait_requests(model_standin, script, sent_before + 1)
    assert len(model_standin.requests(script)) == sent_before + 1
    assert [line for line in counter_lines(counter) if script in line] == [
        f"tally {script}-1"]
