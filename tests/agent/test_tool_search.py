"""With many tools, the agent is offered the few that tool search finds for the task."""

from __future__ import annotations

import pytest

from tests.tasks.helpers import tag, wait_for


@pytest.fixture
def few_tools_offered(server):
    from crazy_gary.config import get_settings

    settings = get_settings()
    before = settings.task_tool_search_threshold
    settings.task_tool_search_threshold = 3
    yield
    settings.task_tool_search_threshold = before


async def test_tool_search_picks_relevant_tools(client, user, model_standin, counter,
                                                few_tools_offered):
    script = tag("search")
    model_standin.script(script, [{"content": "1. tally"}, {"content": "ok"}])
    task_id = await _run(client, user, script)
    assert (await wait_for(client, user, task_id))["status"] == "completed"
    offered = [t["function"]["name"] for t in model_standin.requests(script)[1]["tools"]]
    assert len(offered) == 3
    assert "counter__tally" in offered


async def _run(client, user, script):
    from tests.tasks.helpers import marker

    resp = await client.post("/api/tasks", headers=user.headers, json={
        "title": "Tally", "auto_start": True,
        "description": f"Record one tally mark with a label. {marker(script)}"})
    return resp.json()["task_id"]
