"""Retry a failed or stopped task from the step where it ended (POST /api/tasks/{id}/retry).

The retry is a new task (`retry_of` names the original) whose durable workflow is a fork of
the original's (`tasks.forks`): the model and tool calls the original completed are carried
over, replayed from their records and never sent again, and the new task's steps start with
copies of theirs. Limits and the model may be changed for the calls still to make; they are
read from the new task's row when its workflow starts.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crazy_gary.approvals import intents
from crazy_gary.config import Settings
from crazy_gary.errors import Conflict, ValidationFailed
from crazy_gary.kit.ids import new_id
from crazy_gary.kit.unit_of_work import after_commit
from crazy_gary.realtime import record
from crazy_gary.tasks import forks, queue, state
from crazy_gary.tasks.models import Task, TaskStep
from crazy_gary.tasks.presenters import event_payload
from crazy_gary.tasks.schemas import TaskRetry
from crazy_gary.tasks.service import get_task, list_steps, normalise_model
from crazy_gary.tasks.status import TaskStatus
from crazy_gary.usage.quota import ensure_within as ensure_within_quota

log = logging.getLogger(__name__)

RETRYABLE = (TaskStatus.FAILED, TaskStatus.STOPPED)


async def retry_task(session: AsyncSession, *, user_id: int, task_id: str, data: TaskRetry,
                     settings: Settings) -> Task:
    """A new running task that resumes `task_id` where it ended (the caller commits; the
    workflow is forked once that commits). 429 QUOTA_EXCEEDED when a monthly limit of the
    user is used up."""
    original = await get_task(session, user_id=user_id, task_id=task_id)
    if original.status not in RETRYABLE:
        raise Conflict(f"Task is {original.status}; only a failed or stopped task can be retried",
                       details={"status": original.status})
    if original.origin == "chat":
        raise Conflict("A chat turn is not retried: send the message again",
                       details={"origin": original.origin})
    await ensure_within_quota(session, user_id)  # a retry spends like a new task
    if original.status == TaskStatus.STOPPED:
        await queue.cancel_task(original.id)  # its workflow must not go on beside the retry
    steps = await list_steps(session, task_id=original.id)
    point = await forks.resume_point(original.id, {s.seq for s in steps})
    carried = [s for s in steps if point is not None and s.seq < point.calls]
    options = _options(original.options, data, carried, settings)
    task = Task(
        id=new_id("task"), user_id=user_id, title=original.title,
        description=original.description,
        model=normalise_model(data.model, original.model), priority=original.priority,
        status=TaskStatus.RUNNING, phase="queued", options=options, origin=original.origin,
        parent_id=original.parent_id, conversation_id=original.conversation_id,
        retry_of=original.id, plan=original.plan if carried else None,
        progress=min(original.progress, 99) if carried else 0,
        prompt_tokens=sum(s.prompt_tokens for s in carried),
        completion_tokens=sum(s.completion_tokens for s in carried),
        total_tokens=sum(s.prompt_tokens + s.completion_tokens for s in carried),
        cost_usd=sum(s.cost_usd for s in carried),
    )
    session.add(task)
    await session.flush()
    session.add_all(_copy(step, task.id) for step in carried)
    await intents.carry_over(session, from_task=original.id, to_task=task.id,
                             from_seq=len(carried))
    record(session, "task_created", event_payload(task, retry_of=original.id), user_id=user_id)
    start_step = point.start_step if point is not None else None
    after_commit(session, partial(_start, original.id, task.id, user_id, task.priority,
                                  start_step))
    return task


def _options(original: dict[str, Any], data: TaskRetry, carried: list[TaskStep],
             settings: Settings) -> dict[str, Any]:
    """The original's options with the overrides; the limits must leave room for the
    carried-over steps (they are replayed under the new limits)."""
    options = dict(original or {})
    if data.max_steps is not None:
        options["max_steps"] = data.max_steps
    if data.token_budget is not None:
        options["token_budget"] = data.token_budget
    turns = sum(1 for s in carried if s.kind == "model")
    tokens = sum(s.prompt_tokens + s.completion_tokens for s in carried)
    max_steps = int(options.get("max_steps") or settings.task_max_steps)
    budget = int(options.get("token_budget") or settings.task_token_budget)
    problems = []
    if max_steps < turns:
        problems.append(f"max_steps must be at least {turns}, the model turns carried over")
    if budget < tokens:
        problems.append(f"token_budget must be at least {tokens}, the tokens the carried-over "
                        "steps used")
    if problems:
        raise ValidationFailed(problems)
    return options


def _copy(step: TaskStep, task_id: str) -> TaskStep:
    return TaskStep(task_id=task_id, seq=step.seq, kind=step.kind, name=step.name,
                    arguments=step.arguments, outcome=step.outcome, output=step.output,
                    model=step.model, prompt_tokens=step.prompt_tokens,
                    completion_tokens=step.completion_tokens, cost_usd=step.cost_usd,
                    latency_ms=step.latency_ms, created_at=step.created_at)


async def _start(original_id: str, task_id: str, user_id: int, priority: str,
                 start_step: int | None) -> None:
    """Fork the original's workflow (or queue a fresh one); if that cannot be done the
    retry fails at once instead of staying queued."""
    try:
        await forks.start_retry(original_id, task_id, user_id=user_id, priority=priority,
                                start_step=start_step)
    except Exception:
        log.exception("retry %s of task %s could not be queued", task_id, original_id)
        await state.finish(task_id, status=TaskStatus.FAILED, error={
            "code": "INTERNAL_ERROR", "message": "The retry could not be queued"})
        raise
