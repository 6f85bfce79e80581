"""A task whose model endpoint is asleep waits (phase waiting_for_model), wakes it, completes."""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tests.fakes.openai_standin import RemoteModelServer
from tests.support import ProcessServer, free_port, register
from tests.tasks.test_durability import process_env, wait_final


async def test_wake_on_demand_and_fallback(base_env, model_standin):
    data_dir = Path(tempfile.mkdtemp(prefix="cg-wake-"))
    port = free_port()
    env = process_env(base_env, model_standin, data_dir, data_dir / "counter.log", "wake-test")
    # 120b is not configured at all (the task asks for it and falls back); 20b is a local
    # server that is only started on demand and takes a moment to come up
    env.update(MODEL_120B_BASE_URL="", MODEL_120B_COMMAND="", MODEL_120B_HF_ENDPOINT="")
    env.update(MODEL_20B_BASE_URL=f"http://127.0.0.1:{port}/v1",
               MODEL_20B_COMMAND=shlex.join([sys.executable, "-m", "tests.fakes.openai_standin",
                                             "--port", str(port), "--startup-delay", "2"]),
               MCP_CONFIG="")
    server = ProcessServer(env).start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            user = await register(client)
            resp = await client.post("/api/tasks", headers=user.headers, json={
                "title": "wake", "description": "say hello", "auto_start": True})
            task_id = resp.json()["task_id"]
            seen: list[tuple[str | None, str | None]] = []
            deadline = time.monotonic() + 60
            while True:
                body = (await client.get(f"/api/tasks/{task_id}", headers=user.headers)).json()
                seen.append((body.get("phase"), body.get("phase_reason")))
                if body["status"] != "running" or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.05)
            task = await wait_final(client, user.headers, task_id)
    finally:
        server.stop()
        with contextlib.suppress(Exception):  # the service leaves a started model running
            RemoteModelServer(port=port).exit(0)
    assert task["status"] == "completed", (task, server.log()[-3000:])
    assert task["model"] == "gpt-oss-120b"
    assert task["result"]["answered_by"] == "gpt-oss-20b"
    assert task["result"]["answer"] == "Hello from the stand-in model."
    waiting = [reason for phase, reason in seen if phase == "waiting_for_model"]
    assert waiting, seen
    assert all(reason for reason in waiting)
