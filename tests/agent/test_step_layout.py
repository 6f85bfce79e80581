"""The checkpoints a task's workflow records, and the replay of workflows recorded by the
earlier layout (a separate tool-selection step and a separate plan-saving step), as after
an upgrade with tasks in flight."""

from __future__ import annotations

import asyncio

from dbos import DBOS
from dbos._dbos import _get_dbos_instance
from sqlalchemy import select

from crazy_gary.agent.ports import Toolset
from crazy_gary.tasks import state
from tests.tasks.helpers import create, marker, run_task, tag, wait_for

PLAN = {"content": "1. Look\n2. Answer"}


async def on_server(server, coro):
    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, server.loop))


async def step_names(server, workflow_id: str) -> list[str]:
    steps = await on_server(server, DBOS.list_workflow_steps_async(workflow_id))
    return [s["function_name"] for s in steps]


async def test_a_task_checkpoints_its_start_with_the_tools_and_its_plan_with_the_plan_call(
        server, client, user, model_standin):
    script = tag("layout")
    model_standin.script(script, [PLAN, {"content": "answered"}])
    task_id = await run_task(client, user, script)
    task = await wait_for(client, user, task_id)
    assert task["status"] == "completed", task
    assert task["plan"] == ["Look", "Answer"]
    assert [s["kind"] for s in task["result"]["steps"]] == ["plan", "model"]
    assert await step_names(server, task_id) == [
        "agent.begin", "agent.model_call", "agent.model_call", "agent.finish"]


def seed_earlier_layout(task_id: str, template_id: str, spec) -> None:
    """A pending workflow for `task_id` as the earlier layout left it after its first two
    steps: `agent.begin` returned a bare TaskSpec, `agent.select_tools` a Toolset. Rows
    are copied from a finished task's workflow (`template_id`) so every engine column is
    as the engine writes it."""
    dbos = _get_dbos_instance()
    sys_db, serialize = dbos._sys_db, dbos._serializer.serialize
    status, outputs = sys_db.tables.workflow_status, sys_db.tables.operation_outputs
    with sys_db.engine.begin() as conn:
        row = dict(conn.execute(select(status).where(
            status.c.workflow_uuid == template_id)).mappings().one())
        # (a finished workflow's inputs are not kept)
        row.update(workflow_uuid=task_id, status="PENDING", output=None, error=None,
                   inputs=serialize({"args": (task_id,), "kwargs": {}}), completed_at=None)
        conn.execute(status.insert().values(**row))
        first = dict(conn.execute(select(outputs).where(
            outputs.c.workflow_uuid == template_id, outputs.c.function_id == 1))
            .mappings().one())
        assert first["function_name"] == "agent.begin"
        conn.execute(outputs.insert().values(
            **{**first, "workflow_uuid": task_id, "output": serialize(spec)}))
        conn.execute(outputs.insert().values(
            **{**first, "workflow_uuid": task_id, "function_id": 2,
               "function_name": "agent.select_tools", "output": serialize(Toolset())}))


async def test_a_workflow_of_the_earlier_layout_replays_and_completes(
        server, client, user, model_standin, settings):
    template_script, script = tag("layout-template"), tag("layout-earlier")
    model_standin.script(template_script, [PLAN, {"content": "template"}])
    model_standin.script(script, [PLAN, {"content": "resumed on the new layout"}])
    template_id = await run_task(client, user, template_script)
    assert (await wait_for(client, user, template_id))["status"] == "completed"
    task_id = await create(client, user, title="Earlier layout",
                           description=f"Look, then answer. {marker(script)}")

    async def seed_and_recover() -> None:
        spec = await state.begin(task_id)  # what the earlier first step did
        await asyncio.to_thread(seed_earlier_layout, task_id, template_id, spec)
        await asyncio.to_thread(DBOS._recover_pending_workflows, [settings.executor_id])

    await on_server(server, seed_and_recover())
    task = await wait_for(client, user, task_id)
    assert task["status"] == "completed", task
    assert task["result"]["answer"] == "resumed on the new layout"
    assert task["plan"] == ["Look", "Answer"]
    assert [s["kind"] for s in task["result"]["steps"]] == ["plan", "model"]
    # the replay met the steps it had recorded, then went on in the earlier layout
    assert await step_names(server, task_id) == [
        "agent.begin", "agent.select_tools", "agent.model_call", "agent.save_plan",
        "agent.model_call", "agent.finish"]
