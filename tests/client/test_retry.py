"""The client's task retry, against the real served instance."""

from __future__ import annotations

import pytest

from crazy_gary.client import ConflictError, NotFoundError, ValidationError
from tests.client.helpers import signed_in
from tests.tasks.helpers import marker, tag

PLAN = {"content": "1. Look\n2. Answer"}
LOOK = {"tool_calls": [{"name": "workspace__list_files", "arguments": {}}]}


async def test_retry_resumes_a_failed_task(server, user, other_user, model_standin):
    script = tag("cl-retry")
    model_standin.script(script, [PLAN, LOOK, {"content": "Seen it."}], by="turn")
    gary = await signed_in(server, user)
    other = await signed_in(server, other_user)
    try:
        created = await gary.tasks.create("Look", f"Look around. {marker(script)}",
                                          auto_start=True, max_steps=1)
        failed = await gary.tasks.wait(created.task_id, within=30)
        assert failed.status == "failed" and failed.error.code == "MAX_STEPS_EXCEEDED"
        sent = len(model_standin.requests(script))

        with pytest.raises(ValidationError):
            await gary.tasks.retry(created.task_id, max_steps=0)
        with pytest.raises(NotFoundError):
            await other.tasks.retry(created.task_id)
        retried = await gary.tasks.retry(created.task_id, max_steps=2)
        assert retried.status == "running"
        task = await gary.tasks.wait(retried.task_id, within=30)
        assert task.status == "completed" and task.result["answer"] == "Seen it."
        assert task.retry_of == created.task_id
        assert len(model_standin.requests(script)) == sent + 1  # only the new turn
        with pytest.raises(ConflictError):
            await gary.tasks.retry(retried.task_id)
    finally:
        await gary.aclose()
        await other.aclose()
