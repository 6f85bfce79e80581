"""Task service: create, read, start (queue), stop, stats, and the snapshot heavy reads.

Each action is one unit of work: the state change and its event row go into the caller's
session; the event is fanned out and durable work (queueing, cancelling) is done once
that session commits (kit/unit_of_work.py).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from crazy_gary.approvals import service as approvals
from crazy_gary.db import session_scope, thread_transaction, utcnow
from crazy_gary.errors import Conflict, TaskNotFound
from crazy_gary.kit.dml import rows_changed, rows_changed_now
from crazy_gary.kit.ids import new_id
from crazy_gary.kit.pagination import Page, fetch_page
from crazy_gary.kit.unit_of_work import after_commit, in_async_session
from crazy_gary.llm.models import normalise as normalise_name
from crazy_gary.llm.names import ModelName
from crazy_gary.realtime import record
from crazy_gary.tasks import queue
from crazy_gary.tasks.models import Task, TaskStep
from crazy_gary.tasks.presenters import event_payload, result_dict, usage_dict
from crazy_gary.tasks.schemas import StatsRead, TaskCreate
from crazy_gary.tasks.status import FINAL, UNFINISHED, TaskStatus
from crazy_gary.usage.quota import ensure_within_now as ensure_within_quota

log = logging.getLogger(__name__)

def normalise_model(name: str | None, default: str) -> ModelName:
    """The public model name a task records; unknown names are a validation error."""
    return normalise_name(name or default)


def create_task_now(
    session: Session,
    *,
    user_id: int,
    data: TaskCreate,
    default_model: str = "gpt-oss-120b",
    origin: str = "api",
    parent_id: str | None = None,
    conversation_id: str | None = None,
    schedule_id: str | None = None,
    queued: bool = False,
) -> Task:
    """A new task in `created` (`queued`: straight to running/queued, for a caller that
    enqueues it itself) and its `task_created` event (the caller commits)."""
    options: dict[str, Any] = {
        key: value for key, value in {
            "max_steps": data.max_steps, "token_budget": data.token_budget,
            "timeout_seconds": data.timeout_seconds, "tools": data.tools,
            "tool_policy": data.tool_policy.model_dump() if data.tool_policy else None,
            "approval_timeout_seconds": data.approval_timeout_seconds,
        }.items() if value is not None
    }
    task = Task(
        id=new_id("task"), user_id=user_id, title=data.title, description=data.description,
        model=normalise_model(data.model, default_model), priority=data.priority,
        status=TaskStatus.CREATED, progress=0, options=options, origin=origin, parent_id=parent_id,
        conversation_id=conversation_id, schedule_id=schedule_id,
    )
    if queued:
        task.status, task.phase = TaskStatus.RUNNING, "queued"
    session.add(task)
    session.flush()
    record(session, "task_created", event_payload(task), user_id=user_id)
    return task


create_task = in_async_session(create_task_now)


async def submit_task(*, user_id: int, data: TaskCreate, default_model: str) -> Task:
    """POST /api/tasks: a new task, queued at once when `auto_start`, as one transaction in
    one worker-thread hop (see `start_created_task`); 429 QUOTA_EXCEEDED when a monthly
    limit of the user is used up."""
    def submit(session: Session) -> Task:
        ensure_within_quota(session, user_id)
        task = create_task_now(session, user_id=user_id, data=data,
                               default_model=default_model)
        if data.auto_start:
            return _queue_now(session, user_id=user_id, task_id=task.id)
        return task

    return await thread_transaction(submit)


async def start_created_task(*, user_id: int, task_id: str) -> Task:
    """`start_task` of a task created earlier, as a transaction of its own run in one
    worker-thread hop (`db.thread_transaction`). On SQLite the database's one write lock is
    then held for its few statements only, not across turns of a busy event loop (100
    tasks started at once were answered after 1.9-2.9 s that way, 0.7-1.8 s this way;
    docs/scaling.md, "The start of a burst")."""
    return await thread_transaction(
        lambda session: start_now(session, user_id=user_id, task_id=task_id))


def start_now(session: Session, *, user_id: int, task_id: str) -> Task:
    """`created` -> running/queued in the caller's transaction (`start_task`: one that also
    created the task); the workflow is enqueued once this commits (the worker must find
    the task queued). If it cannot be, the task goes back to `created`. 429 QUOTA_EXCEEDED
    when a monthly limit of the user is used up."""
    ensure_within_quota(session, user_id)
    return _queue_now(session, user_id=user_id, task_id=task_id)


start_task = in_async_session(start_now)


def _queue_now(session: Session, *, user_id: int, task_id: str) -> Task:
    """Mark the task queued; its workflow is enqueued once the transaction commits."""
    task = mark_queued_now(session, user_id=user_id, task_id=task_id)
    after_commit(session, partial(_enqueue_or_unqueue, task.id, user_id, task.priority,
                                  task.origin == "chat"))
    return task


async def _enqueue_or_unqueue(task_id: str, user_id: int, priority: str, chat: bool) -> None:
    try:
        await queue.enqueue_task(task_id, user_id=user_id, priority=priority, chat=chat)
    except Exception:
        async with session_scope() as session:  # back to `created`: it can be retried
            await unqueue(session, task_id=task_id)
        raise


async def stop_task(session: AsyncSession, *, user_id: int, task_id: str) -> Task:
    """Stop a task; its workflow is cancelled once the stop is committed (a step still in
    flight then finds the task stopped and writes nothing)."""
    task = await mark_stopped(session, user_id=user_id, task_id=task_id)
    after_commit(session, partial(queue.cancel_task, task.id))
    return task


async def create_task_for_user(
    *,
    user_id: int,
    title: str,
    description: str,
    model: str | None = None,
    priority: str = "medium",
    origin: str = "heavy",
    parent_id: str | None = None,
    max_steps: int | None = None,
    token_budget: int | None = None,
    timeout_seconds: float | None = None,
    tools: list[str] | None = None,
    tool_policy: dict[str, Any] | None = None,
) -> str:
    """Programmatic creation (committed at once) for other domains; returns the task id."""
    data = TaskCreate.model_validate(dict(
        title=title[:200], description=description[:20_000], model=model, priority=priority,
        max_steps=max_steps, token_budget=token_budget, timeout_seconds=timeout_seconds,
        tools=tools, tool_policy=tool_policy))
    async with session_scope() as session:
        task = await create_task(session, user_id=user_id, data=data, origin=origin,
                                 parent_id=parent_id)
    return task.id


async def get_task(session: AsyncSession, *, user_id: int, task_id: str) -> Task:
    """The caller's task; anyone else's (or none) is TASK_NOT_FOUND."""
    return _owned(await session.get(Task, task_id), user_id=user_id, task_id=task_id)


def _owned(task: Task | None, *, user_id: int, task_id: str) -> Task:
    if task is None or task.user_id != user_id:
        raise TaskNotFound(f"Task {task_id} not found")
    return task


async def list_steps(session: AsyncSession, *, task_id: str) -> list[TaskStep]:
    rows = await session.scalars(
        select(TaskStep).where(TaskStep.task_id == task_id).order_by(TaskStep.seq))
    return list(rows)


async def list_tasks(
    session: AsyncSession, *, user_id: int, status: str | None, page: Page
) -> tuple[list[Task], int]:
    """The caller's tasks, newest first."""
    query = (select(Task).where(Task.user_id == user_id)
             .order_by(Task.created_at.desc(), Task.id.desc()))
    if status:
        query = query.where(Task.status == status)
    return await fetch_page(session, query, page)


def mark_queued_now(session: Session, *, user_id: int, task_id: str) -> Task:
    """`created` -> `running`/queued with its `task_update`; anything else is a 409."""
    task = _owned(session.get(Task, task_id), user_id=user_id, task_id=task_id)
    queued = dict(status=TaskStatus.RUNNING, phase="queued", phase_reason=None,
                  updated_at=utcnow())
    changed = rows_changed_now(
        session, update(Task).where(Task.id == task_id, Task.status == TaskStatus.CREATED)
        .values(**queued).execution_options(synchronize_session=False))
    if changed != 1:
        session.refresh(task)
        raise Conflict(f"Task is {task.status}; only a task in 'created' can be started",
                       details={"status": task.status})
    for key, value in queued.items():  # what the row now holds, without reading it back
        set_committed_value(task, key, value)
    record(session, "task_update", event_payload(task), user_id=user_id)
    return task


mark_queued = in_async_session(mark_queued_now)


async def unqueue(session: AsyncSession, *, task_id: str) -> None:
    """Undo `mark_queued` when the task could not be enqueued."""
    changed = await rows_changed(
        session,
        update(Task).where(Task.id == task_id, Task.status == TaskStatus.RUNNING,
                           Task.phase == "queued", Task.started_at.is_(None))
        .values(status=TaskStatus.CREATED, phase=None, updated_at=utcnow())
        .execution_options(synchronize_session=False))
    if changed == 1:
        task = await session.get_one(Task, task_id)
        record(session, "task_update", event_payload(task), user_id=task.user_id)


async def mark_stopped(session: AsyncSession, *, user_id: int, task_id: str) -> Task:
    """`created`/`running` -> `stopped` with its `task_update`, keeping what was done; a
    task waiting for a person has its approvals cancelled and its workflow woken."""
    task = await get_task(session, user_id=user_id, task_id=task_id)
    now = utcnow()
    changed = await rows_changed(
        session, update(Task).where(Task.id == task_id, Task.status.in_(UNFINISHED))
        .values(status=TaskStatus.STOPPED, phase=None, phase_reason=None, updated_at=now,
                completed_at=now)
        .execution_options(synchronize_session=False))
    if changed != 1:
        await session.refresh(task)
        raise Conflict(f"Task is already {task.status}; only a created or running task can be "
                       "stopped", details={"status": task.status})
    await session.refresh(task)
    record(session, "task_update", event_payload(task), user_id=user_id)
    await approvals.cancel_pending(session, task_id=task_id)
    return task


async def snapshot(task_id: str) -> dict[str, Any] | None:
    """Status, progress, result, error and usage of any task (no ownership check: internal)."""
    async with session_scope() as session:
        task = await session.get(Task, task_id)
        if task is None:
            return None
        steps = await list_steps(session, task_id=task_id)
        return {
            "task_id": task.id, "user_id": task.user_id, "status": task.status,
            "phase": task.phase, "progress": task.progress,
            "result": result_dict(task, steps), "error": task.error,
            "usage": usage_dict(task), "answer": task.answer, "model": task.model,
            "answered_by": task.answered_by,
        }


async def stats(session: AsyncSession, *, user_id: int | None) -> StatsRead:
    """Counts and averages for one user (or everyone when user_id is None)."""
    query = select(
        func.count(),
        func.sum(case((Task.status == TaskStatus.RUNNING, 1), else_=0)),
        func.sum(case((Task.status == TaskStatus.COMPLETED, 1), else_=0)),
        func.sum(case((Task.status == TaskStatus.FAILED, 1), else_=0)),
    ).select_from(Task)
    if user_id is not None:
        query = query.where(Task.user_id == user_id)
    total, active, completed, failed = (await session.execute(query)).one()
    completed, failed = int(completed or 0), int(failed or 0)
    durations = select(Task.started_at, Task.completed_at).where(
        Task.status == TaskStatus.COMPLETED, Task.started_at.is_not(None),
        Task.completed_at.is_not(None))
    if user_id is not None:
        durations = durations.where(Task.user_id == user_id)
    spans: list[timedelta] = [end - start for start, end in (await session.execute(durations))
                              if start is not None and end is not None]
    average = sum(s.total_seconds() for s in spans) / len(spans) if spans else 0.0
    finished = completed + failed
    return StatsRead(
        total_tasks=int(total or 0), active_tasks=int(active or 0), completed_tasks=completed,
        failed_tasks=failed, average_completion_time=round(average, 3),
        success_rate=round(completed / finished, 4) if finished else 0.0,
    )


def is_final(status: str) -> bool:
    return status in FINAL
