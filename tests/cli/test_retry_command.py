"""`crazy-gary tasks retry`, run as a subprocess against the served instance."""

from __future__ import annotations

import json

from tests.tasks.helpers import marker, tag

PLAN = {"content": "1. Think\n2. Answer"}
LOOK = {"tool_calls": [{"name": "workspace__list_files", "arguments": {}}]}


async def test_tasks_retry_follows_the_new_task(signed_in_cli, model_standin):
    script = tag("cli-retry")
    model_standin.script(script, [PLAN, LOOK, {"content": "Done looking."}], by="turn")
    failed = signed_in_cli("run", f"Look {marker(script)}", "--max-steps", "1", "--json")
    assert failed.code == 1, failed.err
    original = failed.lines()[-1]["data"]
    assert original["error"]["code"] == "MAX_STEPS_EXCEEDED"

    retried = signed_in_cli("tasks", "retry", original["id"], "--max-steps", "2", "--follow",
                            "--json")
    assert retried.code == 0, retried.err
    result = retried.lines()[-1]["data"]
    assert result["status"] == "completed" and result["retry_of"] == original["id"]
    assert result["result"]["answer"] == "Done looking."

    again = signed_in_cli("tasks", "retry", result["id"], "--json")
    assert again.code == 1
    assert json.loads(again.out)["code"] == "CONFLICT"
    plain = signed_in_cli("tasks", "retry", original["id"], "--max-steps", "2")
    assert plain.code == 0, plain.err
    assert f"retries {original['id']}" in plain.out
