"""A retry survives SIGKILL like any task: after the restart its forked workflow resumes, and
neither the calls carried over from the original nor its own completed ones are repeated."""

from __future__ import annotations

import tempfile
from pathlib import Path

import httpx

from tests.support import ProcessServer, register
from tests.tasks.helpers import counter_lines, marker, tag
from tests.tasks.test_durability import process_env, wait_counted, wait_final

PLAN = {"content": "1. Tally twice\n2. Answer"}


def assistants(request: dict) -> int:
    return sum(1 for m in request["messages"] if m["role"] == "assistant")


async def test_sigkill_during_a_retry_resumes_it(base_env, model_standin):
    data_dir = Path(tempfile.mkdtemp(prefix="cg-retry-crash-"))
    counter_file = data_dir / "counter.log"
    script = tag("retry-crash")

    def tally(n: int, **extra) -> dict:
        return {"tool_calls": [{"name": "counter__tally",
                                "arguments": {"label": f"{script}-{n}"}}], **extra}

    model_standin.script(script, [PLAN, tally(1), {"error": 503, "message": "down"}], by="turn")
    env = process_env(base_env, model_standin, data_dir, counter_file, "retry-crash-worker")
    first = ProcessServer(env).start()
    try:
        async with httpx.AsyncClient(base_url=first.url, timeout=30) as client:
            user = await register(client)
            resp = await client.post("/api/tasks", headers=user.headers, json={
                "title": "fail then retry", "description": f"tally twice {marker(script)}",
                "auto_start": True})
            failed_id = resp.json()["task_id"]
            failed = await wait_final(client, user.headers, failed_id)
            assert failed["status"] == "failed", failed
            sent = len(model_standin.requests(script))
            # the retry's first call (turn 2) asks for the second tally; the process dies
            # while the next call (turn 3) is in flight
            model_standin.script(script, [PLAN, tally(1), tally(2),
                                          {"content": "late", "delay": 30}], by="turn")
            resp = await client.post(f"/api/tasks/{failed_id}/retry", headers=user.headers)
            assert resp.status_code == 201, resp.text
            retry_id = resp.json()["task_id"]
            await wait_counted(model_standin, script, sent + 2)
        first.kill()
        assert counter_lines(counter_file) == [f"tally {script}-1", f"tally {script}-2"]

        model_standin.script(script, [PLAN, tally(1), tally(2), {"content": "two tallies"}],
                             by="turn")
        second = ProcessServer(env, port=first.port).start()
        try:
            async with httpx.AsyncClient(base_url=second.url, timeout=30) as client:
                task = await wait_final(client, user.headers, retry_id)
        finally:
            second.stop()
    finally:
        first.kill()

    assert task["status"] == "completed", (task, second.log()[-3000:])
    assert task["result"]["answer"] == "two tallies"
    assert task["retry_of"] == failed_id
    assert counter_lines(counter_file) == [f"tally {script}-1", f"tally {script}-2"]
    # after the retry: turn 2, turn 3 (cut off by the kill), turn 3 again; nothing earlier
    assert [assistants(r) for r in model_standin.requests(script)[sent:]] == [2, 3, 3]
    assert [s["kind"] for s in task["result"]["steps"]] == [
        "plan", "model", "tool", "model", "tool", "model"]
    assert [s["seq"] for s in task["result"]["steps"]] == list(range(6))
