"""Where a retried task's durable workflow resumes, and the fork that resumes it there.

A task's workflow (`agent/workflows.py run_task`) checkpoints each step in order: the
start with the tool selection (`agent.begin`; workflows of the earlier layout also have
`agent.select_tools` and `agent.save_plan`), then one step per model call and per tool call
(numbered by the task's step `seq`), and finally `agent.finish`. A retry forks that
workflow under the new task's id: the steps before the resume point are copied (their
recorded outputs are replayed, never run again) and the rest runs anew.

The resume point is the first step that did not complete its work:
- a model or tool call that returned a failure (it recorded no task step): run it again;
- a step that raised, or the one a stop cut off (nothing recorded): run it again;
- a write call a crash interrupted: it runs again as the new task's, which finds the
  carried-over intent and asks a person first (the crash contract holds across a retry);
- anything that waits for a person (approval requests and their waits): the retry asks
  again under its own id, so a decision reaches the task that is running;
- `agent.finish`: the loop decides again, with the new task's limits (a task that ran out
  of steps or tokens goes on when the retry allows more).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from dbos import DBOS, SetWorkflowID
from sqlalchemy import select

from crazy_gary import runtime
from crazy_gary.db import session_scope
from crazy_gary.tasks.models import Task, TaskStep
from crazy_gary.tasks.queue import QUEUE_NAME, enqueue_task
from crazy_gary.tasks.status import TaskStatus

log = logging.getLogger(__name__)

# The agent's step names (`crazy_gary.agent.steps`), as the engine records them. Each call
# step takes one task step seq (a refused or declined call is recorded by its verdict).
CALL_STEPS = ("agent.model_call", "agent.tool_call", "agent.tool_verdict")
# Steps replayed as recorded; the scan stops at any other (finish, approvals, waits).
CARRIED_STEPS = (*CALL_STEPS, "agent.begin", "agent.select_tools", "agent.save_plan")
INTERRUPTED = "interrupted"  # a tool call's outcome when a crash may have cut it off


@dataclass(frozen=True)
class ResumePoint:
    """Fork from `start_step` (the engine's step number); the first `calls` model and tool
    calls (task step seqs 0 .. calls-1) are carried over."""

    start_step: int
    calls: int


async def resume_point(task_id: str, recorded_seqs: set[int]) -> ResumePoint | None:
    """Where the task's workflow would resume; None when it has no workflow or nothing
    worth carrying over (the retry then starts afresh). `recorded_seqs` are the seqs of the
    task's recorded steps: a call step without one returned a failure."""
    if await DBOS.get_workflow_status_async(task_id) is None:
        return None
    steps = await DBOS.list_workflow_steps_async(task_id)
    calls, start = 0, 1
    for step in steps:
        name = step["function_name"]
        if step["function_id"] != start or step["error"] is not None \
                or name not in CARRIED_STEPS:
            break
        if name in CALL_STEPS:
            if calls not in recorded_seqs \
                    or getattr(step["output"], "outcome", None) == INTERRUPTED:
                break
            calls += 1
        start += 1
    if calls == 0:
        return None
    return ResumePoint(start_step=start, calls=calls)


async def start_retry(original_id: str, task_id: str, *, user_id: int, priority: str,
                      start_step: int | None) -> None:
    """Fork the original task's workflow under `task_id` from `start_step`, on the
    agent-task queue in the user's partition (the per-user cap applies as for any task);
    with nothing to carry over (`start_step` None) queue a fresh workflow instead."""
    if start_step is None:
        await enqueue_task(task_id, user_id=user_id, priority=priority)
        return
    settings = runtime.current().settings
    with SetWorkflowID(task_id):
        await DBOS.fork_workflow_async(
            original_id, start_step, application_version=settings.app_version,
            queue_name=QUEUE_NAME, queue_partition_key=str(user_id))


async def recorded_seqs(task_id: str) -> set[int]:
    async with session_scope() as session:
        return set(await session.scalars(select(TaskStep.seq)
                                         .where(TaskStep.task_id == task_id)))


async def requeue_orphan_retries() -> None:
    """Retries marked queued whose fork never happened (the process died between the
    commit and the fork) are forked now, from the same point (the original has ended, so
    its resume point has not moved); the workflow id makes this idempotent."""
    async with session_scope() as session:
        rows = (await session.execute(
            select(Task.id, Task.user_id, Task.priority, Task.retry_of)
            .where(Task.status == TaskStatus.RUNNING, Task.phase == "queued",
                   Task.started_at.is_(None), Task.retry_of.is_not(None)))).all()
    for task_id, user_id, priority, original_id in rows:
        if original_id is None or await DBOS.get_workflow_status_async(task_id) is not None:
            continue
        log.warning("forking retry %s of %s (queued but never handed to the engine)",
                    task_id, original_id)
        try:
            point = await resume_point(original_id, await recorded_seqs(original_id))
            await start_retry(original_id, task_id, user_id=user_id, priority=priority,
                              start_step=point.start_step if point is not None else None)
        except Exception:  # one broken retry must not stop the process from starting
            log.exception("retry %s of %s could not be forked", task_id, original_id)
