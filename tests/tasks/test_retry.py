"""Retry from the failed step: a failed or stopped task goes on as a new task, and the model
and tool calls it completed are carried over, never sent again."""

from __future__ import annotations

import asyncio
import time

from dbos import DBOS

from tests.tasks.helpers import counter_lines, run_task, tag, wait_for

PLAN = {"content": "1. Tally\n2. Answer"}


def tally(label: str) -> dict:
    return {"tool_calls": [{"name": "counter__tally", "arguments": {"label": label}}],
            "usage": {"prompt_tokens": 50, "completion_tokens": 5}}


async def wait_requests(model_standin, script: str, count: int, within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while len(model_standin.requests(script)) < count:
        assert time.monotonic() < deadline, f"only {len(model_standin.requests(script))} calls"
        await asyncio.sleep(0.05)


async def workflow_status(server, workflow_id: str):
    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(
        DBOS.get_workflow_status_async(workflow_id), server.loop))


async def retry(client, user, task_id: str, **body) -> str:
    resp = await client.post(f"/api/tasks/{task_id}/retry", headers=user.headers,
                             json=body or None)
    assert resp.status_code == 201, resp.text
    assert resp.json()["status"] == "running"
    assert resp.json()["task_id"] != task_id
    return resp.json()["task_id"]


def assistants(request: dict) -> int:
    return sum(1 for m in request["messages"] if m["role"] == "assistant")


async def test_failed_model_call_is_retried_and_completed_calls_are_not(
        server, client, user, model_standin, counter):
    script = tag("retry-fail")
    # by turn: the reply depends on the conversation so far (the 4th call fails, every attempt)
    model_standin.script(script, [PLAN, tally(f"{script}-1"), tally(f"{script}-2"),
                                  {"error": 503, "message": "down"}], by="turn")
    failed_id = await run_task(client, user, script)
    failed = await wait_for(client, user, failed_id)
    assert failed["status"] == "failed", failed
    assert failed["error"]["code"] == "ENDPOINT_UNAVAILABLE"
    assert [s["kind"] for s in failed["result"]["steps"]] == [
        "plan", "model", "tool", "model", "tool"]
    sent_before = len(model_standin.requests(script))

    model_standin.script(script, [PLAN, tally(f"{script}-1"), tally(f"{script}-2"),
                                  {"content": "two tallies done"}], by="turn")
    retry_id = await retry(client, user, failed_id)
    task = await wait_for(client, user, retry_id)

    assert task["status"] == "completed", task
    assert task["result"]["answer"] == "two tallies done"
    assert task["retry_of"] == failed_id
    # only the failed call was sent again: one request, after the three completed turns
    requests = model_standin.requests(script)[sent_before:]
    assert len(requests) == 1
    assert assistants(requests[0]) == 3
    # each tool ran once, in the original
    assert [line for line in counter_lines(counter) if script in line] == [
        f"tally {script}-1", f"tally {script}-2"]
    steps = task["result"]["steps"]
    assert [s["kind"] for s in steps] == ["plan", "model", "tool", "model", "tool", "model"]
    assert [s["seq"] for s in steps] == list(range(6))
    assert steps[:5] == failed["result"]["steps"]
    assert task["plan"] == ["Tally", "Answer"]
    # the usage counts the carried-over steps once, and the new call
    assert task["result"]["usage"]["total_tokens"] == sum(
        s["usage"]["total_tokens"] for s in steps if s["kind"] != "tool")
    assert task["result"]["usage"]["total_tokens"] > failed["result"]["usage"]["total_tokens"]
    # the original stays as it was; both are listed, the new one naming the original
    original = (await client.get(f"/api/tasks/{failed_id}", headers=user.headers)).json()
    assert original["status"] == "failed" and original["retry_of"] is None
    listed = (await client.get("/api/tasks", headers=user.headers)).json()
    by_id = {t["id"]: t for t in listed}
    assert by_id[retry_id]["retry_of"] == failed_id
    # the retry's workflow is the original's, forked, on the user's partition of the queue
    status = await workflow_status(server, retry_id)
    assert status.forked_from == failed_id
    assert (status.queue_name, status.queue_partition_key) == ("agent_tasks", str(user.id))


async def test_retry_waits_for_the_users_concurrency_cap(
        client, register_user, settings, model_standin):
    me = await register_user()
    script = tag("retry-cap")
    model_standin.script(script, [PLAN, {"error": 503, "message": "down"}], by="turn")
    failed_id = await run_task(client, me, script)
    assert (await wait_for(client, me, failed_id))["status"] == "failed"
    model_standin.script(script, [PLAN, {"content": "after the others"}], by="turn")
    sent = len(model_standin.requests(script))

    busy = tag("retry-busy")
    model_standin.script(busy, [{"content": "1. Wait", "delay": 3}, {"content": "done"}],
                         by="turn")
    running = [await run_task(client, me, busy)
               for _ in range(settings.task_per_user_concurrency)]
    await wait_requests(model_standin, busy, len(running))
    retry_id = await retry(client, me, failed_id)
    await asyncio.sleep(1)  # several queue polls: the cap keeps it queued meanwhile
    waiting = (await client.get(f"/api/tasks/{retry_id}", headers=me.headers)).json()
    assert (waiting["status"], waiting["phase"]) == ("running", "queued")
    assert len(model_standin.requests(script)) == sent

    task = await wait_for(client, me, retry_id)
    assert task["status"] == "completed" and task["result"]["answer"] == "after the others"
    for task_id in running:
        assert (await wait_for(client, me, task_id))["status"] == "completed"


async def test_stopped_task_is_retried_from_the_interrupted_call(
        client, user, model_standin, counter):
    script = tag("retry-stop")
    slow_answer = {"content": "too late", "delay": 5}
    model_standin.script(script, [PLAN, tally(f"{script}-1"), slow_answer], by="turn")
    stopped_id = await run_task(client, user, script)
    await wait_requests(model_standin, script, 3)
    resp = await client.post(f"/api/tasks/{stopped_id}/stop", headers=user.headers)
    assert resp.status_code == 200, resp.text
    stopped = await wait_for(client, user, stopped_id)
    assert stopped["status"] == "stopped"
    sent_before = len(model_standin.requests(script))

    model_standin.script(script, [PLAN, tally(f"{script}-1"), {"content": "one tally"}],
                         by="turn")
    retry_id = await retry(client, user, stopped_id)
    task = await wait_for(client, user, retry_id)
    assert task["status"] == "completed", task
    assert task["result"]["answer"] == "one tally"
    requests = model_standin.requests(script)[sent_before:]
    assert len(requests) == 1 and assistants(requests[0]) == 2
    assert [line for line in counter_lines(counter) if script in line] == [
        f"tally {script}-1"]
    assert [s["kind"] for s in task["result"]["steps"]] == [
        "plan", "model", "tool", "model"]


async def test_retry_with_more_steps_and_another_model_goes_on(
        client, user, model_standin, counter):
    script = tag("retry-steps")
    model_standin.script(script, [PLAN, tally(f"{script}-1"), tally(f"{script}-2"),
                                  tally(f"{script}-3"), {"content": "three"}], by="turn")
    failed_id = await run_task(client, user, script, max_steps=2)
    failed = await wait_for(client, user, failed_id)
    assert failed["error"]["code"] == "MAX_STEPS_EXCEEDED", failed
    sent_before = len(model_standin.requests(script))

    # the two turns carried over count against the new limit
    resp = await client.post(f"/api/tasks/{failed_id}/retry", headers=user.headers,
                             json={"max_steps": 1})
    assert resp.status_code == 400, resp.text
    assert resp.json()["code"] == "VALIDATION_ERROR"

    retry_id = await retry(client, user, failed_id, max_steps=4, model="gpt-oss-20b")
    task = await wait_for(client, user, retry_id)
    assert task["status"] == "completed", task
    assert task["result"]["answer"] == "three"
    assert task["model"] == "gpt-oss-20b"
    requests = model_standin.requests(script)[sent_before:]
    assert [assistants(r) for r in requests] == [3, 4]
    assert all(r["model"].endswith("gpt-oss-20b") for r in requests)
    assert [line for line in counter_lines(counter) if script in line] == [
        f"tally {script}-{n}" for n in (1, 2, 3)]


async def test_retry_refuses_other_states_users_and_bad_bodies(
        client, user, other_user, model_standin):
    script = tag("retry-409")
    model_standin.script(script, [PLAN, {"content": "done"}])
    done_id = await run_task(client, user, script)
    assert (await wait_for(client, user, done_id))["status"] == "completed"
    resp = await client.post(f"/api/tasks/{done_id}/retry", headers=user.headers)
    assert resp.status_code == 409, resp.text
    assert resp.json()["code"] == "CONFLICT"

    created = await client.post("/api/tasks", headers=user.headers,
                                json={"title": "Not started", "description": "Wait"})
    created_id = created.json()["task_id"]
    resp = await client.post(f"/api/tasks/{created_id}/retry", headers=user.headers)
    assert resp.status_code == 409

    slow = tag("retry-running")
    model_standin.script(slow, [{"content": "1. Wait", "delay": 5}])
    running_id = await run_task(client, user, slow)
    resp = await client.post(f"/api/tasks/{running_id}/retry", headers=user.headers)
    assert resp.status_code == 409
    await client.post(f"/api/tasks/{running_id}/stop", headers=user.headers)

    resp = await client.post(f"/api/tasks/{running_id}/retry", headers=other_user.headers)
    assert resp.status_code == 404
    assert resp.json()["code"] == "TASK_NOT_FOUND"
    resp = await client.post("/api/tasks/task_missing/retry", headers=user.headers)
    assert resp.status_code == 404

    for body in ({"max_steps": 0}, {"max_steps": "3"}, {"token_budget": 5},
                 {"model": "no-such-model"}):
        resp = await client.post(f"/api/tasks/{running_id}/retry", headers=user.headers,
                                 json=body)
        assert resp.status_code in (400, 422), (body, resp.text)
        assert resp.json()["code"] == "VALIDATION_ERROR"

    # a task stopped before its first step carried nothing: the retry starts afresh
    model_standin.script(slow, [PLAN, {"content": "fresh"}])
    retry_id = await retry(client, user, running_id)
    task = await wait_for(client, user, retry_id)
    assert task["status"] == "completed", task
    assert task["result"]["answer"] == "fresh"


async def test_a_retry_whose_fork_was_lost_is_forked_at_start_up(
        server, client, user, model_standin, counter):
    """The process dies between committing the retry and forking its workflow: the next
    start (`AFTER_LAUNCH`) forks it from the same point, so nothing is sent twice."""
    from crazy_gary import runtime
    from crazy_gary.db import session_scope
    from crazy_gary.tasks import forks
    from crazy_gary.tasks import retry as task_retry
    from crazy_gary.tasks.schemas import TaskRetry

    script = tag("retry-orphan")
    model_standin.script(script, [PLAN, tally(f"{script}-1"),
                                  {"error": 503, "message": "down"}], by="turn")
    failed_id = await run_task(client, user, script)
    assert (await wait_for(client, user, failed_id))["status"] == "failed"
    model_standin.script(script, [PLAN, tally(f"{script}-1"), {"content": "recovered"}],
                         by="turn")
    sent = len(model_standin.requests(script))

    async def retry_without_fork() -> str:
        async with session_scope() as session:
            task = await task_retry.retry_task(
                session, user_id=user.id, task_id=failed_id, data=TaskRetry(),
                settings=runtime.current().settings)
            jobs = session.sync_session.info["uow_collected"]
            # the crash: the fork, due after the commit, never runs
            session.sync_session.info["uow_collected"] = [
                job for job in jobs if getattr(job, "func", None) is not task_retry._start]
        return task.id

    retry_id = server.run_coro(retry_without_fork())
    orphan = (await client.get(f"/api/tasks/{retry_id}", headers=user.headers)).json()
    assert (orphan["status"], orphan["phase"]) == ("running", "queued")
    assert await workflow_status(server, retry_id) is None

    server.run_coro(forks.requeue_orphan_retries())
    task = await wait_for(client, user, retry_id)
    assert task["status"] == "completed" and task["result"]["answer"] == "recovered"
    requests = model_standin.requests(script)[sent:]
    assert [assistants(r) for r in requests] == [2]
    assert [line for line in counter_lines(counter) if script in line] == [
        f"tally {script}-1"]
