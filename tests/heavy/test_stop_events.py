"""Stopping a heavy run announces its stopped agent tasks like any other stop."""

from __future__ import annotations

import uuid

from tests.heavy.helpers import orchestrate, step_of, wait_done, wait_until
from tests.heavy.test_multi_agent import plan_questions, script
from tests.realtime.helpers import SSEReader

STREAM = "/api/observability/events/stream"


async def test_stop_of_a_heavy_run_publishes_its_agent_tasks_stopped(
        server, client, user, model_standin):
    run = uuid.uuid4().hex[:6]
    q, a1 = f"hse-q-{run}", f"hse-a1-{run}"
    await plan_questions(model_standin, q, [a1])
    # Long enough to stop it mid-call; short enough that the stand-in can shut down after.
    await script(model_standin, a1, [{"content": "1. wait", "delay": 8}])
    async with SSEReader(server.url + STREAM, token=user.token) as reader:
        started = await orchestrate(client, user, {"query": f"Q [[script:{q}]]",
                                                   "num_agents": 1})
        orch_id = started["orchestration_id"]
        body = await wait_until(client, user, orch_id,
                                lambda b: step_of(b, 2)["task_id"] is not None, within=30)
        task_id = step_of(body, 2)["task_id"]
        resp = await client.post(f"/api/heavy/orchestrations/{orch_id}/stop",
                                 headers=user.headers)
        assert resp.status_code == 200
        frame = await reader.wait_for(
            lambda f: f["event"] == "task_update" and f["data"].get("task_id") == task_id
            and f["data"].get("status") == "stopped", within=15)
        await reader.wait_for(
            lambda f: f["event"] == "orchestration_update"
            and f["data"].get("orchestration_id") == orch_id
            and f["data"].get("status") == "cancelled", within=15)
    assert (await wait_done(client, user, orch_id))["status"] == "cancelled"
    # The live frame is the logged event: replay finds it under the same id.
    async with SSEReader(server.url + STREAM, token=user.token,
                         last_event_id=frame["id"] - 1) as replay:
        await replay.wait_for(lambda f: f["id"] == frame["id"], within=10)
