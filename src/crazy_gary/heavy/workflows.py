"""Durable execution: one workflow per orchestration, one child workflow per step.

The parent starts every step's workflow at once (in step order, so recovery replays
the same way); each step waits inside its own workflow for the steps it depends on.
Sequential runs are the special case where each step depends on all earlier ones.
The parent watches the deadline and, when it passes, ends what is still running.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from dbos import DBOS, SetWorkflowID

from crazy_gary import runtime as process
from crazy_gary.agent.workflows import run_task
from crazy_gary.db import utcnow
from crazy_gary.durable import held_call
from crazy_gary.heavy import agents, runtime
from crazy_gary.heavy.execution import execute_step
from crazy_gary.heavy.status import (
    ORCHESTRATION_ACTIVE,
    TERMINAL_ORCHESTRATION,
    TERMINAL_STEP,
    OrchestrationStatus,
    StepStatus,
)

log = logging.getLogger(__name__)

QUEUE_NAME = "heavy"


def step_workflow_id(orch_id: str, step: int) -> str:
    return f"{orch_id}.step-{step}"


async def register_queue() -> None:
    process.current().durable.queues[QUEUE_NAME] = await DBOS.register_queue_async(
        QUEUE_NAME, polling_interval_sec=process.current().settings.queue_polling_interval_seconds)


async def launch(orch_id: str) -> None:
    """Hand a stored orchestration to the engine (after its rows are committed)."""
    queue = process.current().durable.queue(QUEUE_NAME)
    with SetWorkflowID(orch_id):
        await queue.enqueue_async(orchestration_workflow, orch_id)


@DBOS.step(name="heavy.begin")
async def begin(orch_id: str) -> dict[str, Any]:
    """Mark the run started; its deadline is fixed here once, so recovery keeps it."""
    orch, steps = await runtime.load(orch_id)
    if orch.status in TERMINAL_ORCHESTRATION:
        return {"terminal": True, "steps": [], "deadline": 0.0}
    started = orch.started_at or utcnow()
    await runtime.update_orchestration(orch_id, allowed_from=ORCHESTRATION_ACTIVE,
                                       status=OrchestrationStatus.RUNNING, started_at=started)
    return {"terminal": False, "steps": [[s.step, s.tool] for s in steps],
            "deadline": started.timestamp() + orch.timeout_seconds}


@DBOS.step(name="heavy.await_steps", preemptible=True)
async def await_steps(orch_id: str, deadline: float) -> str:
    """'done' once every step has ended, 'timeout' when the deadline comes first."""
    while True:
        _, steps = await runtime.load(orch_id)
        if all(s.status in TERMINAL_STEP for s in steps):
            return "done"
        left = deadline - time.time()
        if left <= 0:
            return "timeout"
        await runtime.wait_change(orch_id, min(left, 0.5))


@DBOS.step(name="heavy.finish")
async def finish(orch_id: str, outcome: str) -> str:
    """Final status, partial results kept; artifacts and the answer collected."""
    orch, _ = await runtime.load(orch_id)
    if orch.status in TERMINAL_ORCHESTRATION:
        return orch.status
    if outcome == "timeout":
        task_ids = await runtime.stop_active_steps(
            orch_id, status=StepStatus.CANCELLED,
            error=f"timed out after {orch.timeout_seconds:g}s")
        await agents.stop_tasks(orch.user_id, task_ids)
    orch, steps = await runtime.load(orch_id)
    artifacts: list[dict[str, Any]] = []
    for s in steps:
        if s.status == StepStatus.COMPLETED and isinstance(s.result, dict):
            artifacts += [a for a in s.result.get("artifacts", []) if isinstance(a, dict)]
    values: dict[str, Any] = {"artifacts": artifacts, "completed_at": utcnow()}
    if outcome == "timeout":
        values.update(status=OrchestrationStatus.TIMEOUT,
                      error=f"Timed out after {orch.timeout_seconds:g}s; partial results kept")
    elif orch.mode == "multi_agent":
        synthesis = steps[-1]
        if synthesis.status == StepStatus.COMPLETED and isinstance(synthesis.result, dict):
            values.update(status=OrchestrationStatus.COMPLETED,
                          answer=synthesis.result.get("answer"))
        else:
            values.update(status=OrchestrationStatus.FAILED,
                          error=synthesis.error or "synthesis did not run")
    else:
        failed = [s for s in steps if s.status != StepStatus.COMPLETED]
        if failed:
            first = failed[0]
            values.update(status=OrchestrationStatus.FAILED,
                          error=f"step {first.step} {first.status}: {first.error or ''}".strip())
        else:
            values["status"] = OrchestrationStatus.COMPLETED
    await runtime.update_orchestration(orch_id, allowed_from=ORCHESTRATION_ACTIVE, **values)
    status: str = values["status"]
    return status


@DBOS.workflow(name="heavy.orchestration")
async def orchestration_workflow(orch_id: str) -> str:
    plan = await begin(orch_id)
    if plan["terminal"]:
        return "skipped"
    for step, tool in plan["steps"]:
        with SetWorkflowID(step_workflow_id(orch_id, step)):
            await DBOS.start_workflow_async(step_workflow, orch_id, step, tool)
    outcome = await await_steps(orch_id, plan["deadline"])
    if outcome == "timeout":
        # Mark first (sticky terminal states), then stop the work itself.
        status = await finish(orch_id, outcome)
        await DBOS.cancel_workflows_async(
            [step_workflow_id(orch_id, s) for s, _ in plan["steps"]], cancel_children=True)
        return status
    return await finish(orch_id, outcome)


@held_call
@DBOS.step(name="heavy.execute_step", preemptible=True)
async def _execute(orch_id: str, step: int) -> dict[str, Any]:
    return await execute_step(orch_id, step)


@DBOS.step(name="heavy.prepare_agent", preemptible=True)
async def _prepare_agent(orch_id: str, step: int) -> dict[str, Any]:
    return await agents.prepare(orch_id, step)


@DBOS.step(name="heavy.finish_agent")
async def _finish_agent(orch_id: str, step: int, task_id: str) -> dict[str, Any]:
    return await agents.finish(orch_id, step, task_id)


@DBOS.workflow(name="heavy.step")
async def step_workflow(orch_id: str, step: int, tool: str) -> dict[str, Any]:
    """One step; a sub-agent's task workflow runs as this workflow's child."""
    if tool != "agent":
        return await _execute(orch_id, step)
    prepared = await _prepare_agent(orch_id, step)
    task_id = prepared.get("task_id")
    if not task_id:
        return prepared
    with SetWorkflowID(task_id):
        handle = await DBOS.start_workflow_async(run_task, task_id)
    follower = asyncio.create_task(agents.follow(orch_id, step, task_id))
    try:
        await handle.get_result()
    except Exception:  # the task's own row says how it ended
        log.info("sub-agent task %s of %s ended abnormally", task_id, orch_id)
    finally:
        follower.cancel()
    return await _finish_agent(orch_id, step, task_id)
