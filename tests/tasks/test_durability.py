"""A task survives SIGKILL of its process: completed calls are not repeated, none is lost."""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path

import httpx

from tests.support import ProcessServer, register
from tests.tasks.helpers import counter_lines, marker, process_env, tag, wait_final


async def wait_counted(model_standin, script: str, count: int, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while len(model_standin.requests(script)) < count:
        assert time.monotonic() < deadline, f"only {len(model_standin.requests(script))} calls"
        await asyncio.sleep(0.05)


async def test_sigkill_mid_task_resumes_from_last_completed_step(base_env, model_standin):
    data_dir = Path(tempfile.mkdtemp(prefix="cg-crash-"))
    counter_file = data_dir / "counter.log"
    script = tag("crash")

    def tally(n: int, **extra) -> dict:
        return {"tool_calls": [{"name": "counter__tally", "arguments": {"label": f"{script}-{n}"}}],
                **extra}

    model_standin.script(script, [
        {"content": "1. tally one\n2. tally two\n3. tally three\n4. answer"},
        tally(1), tally(2),
        tally(3, delay=30),  # the process dies while this call is in flight
        tally(3),            # the interrupted call, asked again after the restart
        {"content": "three tallies done"},
    ])
    env = process_env(base_env, model_standin, data_dir, counter_file, "crash-worker")
    first = ProcessServer(env).start()
    try:
        async with httpx.AsyncClient(base_url=first.url, timeout=30) as client:
            user = await register(client)
            resp = await client.post("/api/tasks", headers=user.headers, json={
                "title": "crash me", "description": f"tally three times {marker(script)}"})
            task_id = resp.json()["task_id"]
            await client.post(f"/api/tasks/{task_id}/start", headers=user.headers)
            await wait_counted(model_standin, script, 4)
        first.kill()
        assert counter_lines(counter_file) == [f"tally {script}-1", f"tally {script}-2"]

        second = ProcessServer(env, port=first.port).start()
        try:
            async with httpx.AsyncClient(base_url=second.url, timeout=30) as client:
                task = await wait_final(client, user.headers, task_id)
        finally:
            second.stop()
    finally:
        first.kill()

    assert task["status"] == "completed", (task, second.log()[-3000:])
    assert task["result"]["answer"] == "three tallies done"
    # every tool ran exactly once, across the crash
    assert counter_lines(counter_file) == [f"tally {script}-{n}" for n in (1, 2, 3)]
    # completed model calls were not repeated: only the interrupted 4th call was asked again
    requests = model_standin.requests(script)
    assert len(requests) == 6
    assert requests[4]["messages"] == requests[3]["messages"]
    assert len({json.dumps(r["messages"]) for r in requests}) == 5
    steps = task["result"]["steps"]
    assert [s["kind"] for s in steps] == ["plan", "model", "tool", "model", "tool",
                                          "model", "tool", "model"]
    assert [s["seq"] for s in steps] == list(range(8))
