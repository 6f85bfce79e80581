"""An orchestration survives SIGKILL of its process: finished steps are kept, the
interrupted one runs again, the run completes."""

from __future__ import annotations

import tempfile
from pathlib import Path

import httpx
import pytest

from tests.heavy.helpers import orchestrate, result_of, step_of, wait_done, wait_until
from tests.support import ProcessServer, register


@pytest.mark.timeout(300)  # two process starts: slow on a loaded machine
async def test_sigkill_mid_orchestration_resumes(base_env):
    data_dir = Path(tempfile.mkdtemp(prefix="cg-heavy-crash-"))
    env = {**base_env, "CRAZY_GARY_DATA_DIR": str(data_dir),
           "CRAZY_GARY_EXECUTOR_ID": "heavy-crash"}
    # Embedded mode: SQLite in its own data dir. Blank, not absent: the session exports the
    # shared server's DATABASE_URL/REDIS_URL, and the child inherits the environment, so on
    # PostgreSQL a popped key would put this process on the shared server's queues.
    env.update(DATABASE_URL="", REDIS_URL="")
    first = ProcessServer(env).start(timeout=120)
    second = None
    try:
        async with httpx.AsyncClient(base_url=first.url, timeout=30) as client:
            user = await register(client)
            started = await orchestrate(client, user, {
                "workflow": [
                    {"step": 1, "tool": "wait", "parameters": {"seconds": 0, "value": "kept"}},
                    {"step": 2, "tool": "wait", "parameters": {"seconds": 3, "value": "redone"}},
                    {"step": 3, "tool": "wait",
                     "parameters": {"seconds": 0, "value": "$steps.2.result.value"}},
                ],
                "config": {"timeout": 600, "parallel": False}})
            orch_id = started["orchestration_id"]
            before = await wait_until(client, user, orch_id,
                                      lambda b: step_of(b, 2)["status"] == "running")
        first.kill()

        second = ProcessServer(env, port=first.port).start(timeout=120)
        async with httpx.AsyncClient(base_url=second.url, timeout=30) as client:
            body = await wait_done(client, user, orch_id, within=120)
    finally:
        first.kill()
        if second is not None:
            second.stop()

    assert body["status"] == "completed", (body, second.log()[-3000:])
    assert step_of(body, 1)["started_at"] == step_of(before, 1)["started_at"]  # not re-run
    assert step_of(body, 2)["started_at"] != step_of(before, 2)["started_at"]  # re-run
    assert result_of(body, 1)["value"] == "kept"
    assert result_of(body, 3)["value"] == "redone"
