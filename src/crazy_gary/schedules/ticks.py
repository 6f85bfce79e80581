"""What one tick does to the database: record the run and create its task, once.

Called from the tick's durable steps (schedules/workflows.py). A step may run again
after a crash; the run row is unique per (schedule, scheduled time), so a second run of
the step finds the first one's row and answers the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crazy_gary.db import session_scope
from crazy_gary.errors import Conflict
from crazy_gary.schedules.models import Schedule, ScheduleRun
from crazy_gary.schedules.status import Overlap, RunStatus, Trigger
from crazy_gary.tasks import service as tasks
from crazy_gary.tasks.models import Task
from crazy_gary.tasks.schemas import TaskCreate
from crazy_gary.tasks.status import UNFINISHED, TaskStatus
from crazy_gary.usage import quota

ORIGIN = "schedule"


@dataclass(frozen=True)
class Fired:
    """A tick's outcome: the task to enqueue now, or the task held until the previous ends."""

    task_id: str | None
    user_id: int
    priority: str
    held: bool = False


def task_body(template: dict[str, object]) -> TaskCreate:
    """The schedule's task template as a POST /api/tasks body."""
    fields = {k: v for k, v in template.items() if k in TaskCreate.model_fields}
    return TaskCreate.model_validate(fields)


async def create_run_task(session: AsyncSession, schedule: Schedule, *, default_model: str,
                          start: bool) -> Task:
    """The tick's task, through the task service (owner, events); `start` marks it queued
    (the caller enqueues it once committed)."""
    task = await tasks.create_task(session, user_id=schedule.user_id,
                                   data=task_body(schedule.task), default_model=default_model,
                                   origin=ORIGIN, schedule_id=schedule.id)
    if start:
        task = await tasks.mark_queued(session, user_id=schedule.user_id, task_id=task.id)
    return task


async def unfinished_task(session: AsyncSession, schedule_id: str) -> Task | None:
    return (await session.scalars(
        select(Task).where(Task.schedule_id == schedule_id, Task.status.in_(UNFINISHED))
        .order_by(Task.created_at.desc(), Task.id.desc()).limit(1))).first()


async def fire(schedule_id: str, scheduled_for: datetime, *, workflow_id: str,
               default_model: str) -> Fired | None:
    """Record the tick (fired, skipped or queued) and create its task; None when there is
    nothing to do (the schedule was deleted or disabled, or the tick was skipped)."""
    async with session_scope() as session:
        schedule = await session.get(Schedule, schedule_id)
        if schedule is None or not schedule.enabled:
            return None
        done = (await session.scalars(select(ScheduleRun).where(
            ScheduleRun.schedule_id == schedule_id,
            ScheduleRun.scheduled_for == scheduled_for))).first()
        if done is not None:  # this step ran before (a crash after its commit)
            if done.task_id is None:
                return None
            return Fired(done.task_id, schedule.user_id, schedule.task.get("priority", "medium"),
                         held=done.status == RunStatus.QUEUED)
        busy = await unfinished_task(session, schedule_id) is not None
        run = ScheduleRun(schedule_id=schedule_id, trigger=Trigger.TICK, workflow_id=workflow_id,
                          scheduled_for=scheduled_for, status=RunStatus.FIRED)
        fired: Fired | None = None
        over_quota = await quota.refusal(session, schedule.user_id)
        if over_quota is not None:  # refused like a new task over the limit, not queued
            run.status, run.reason = RunStatus.SKIPPED, over_quota.message[:200]
        elif busy and schedule.overlap == Overlap.SKIP:
            run.status, run.reason = RunStatus.SKIPPED, "the previous run is still going"
        else:
            held = busy and schedule.overlap == Overlap.QUEUE
            task = await create_run_task(session, schedule, default_model=default_model,
                                         start=not held)
            run.task_id = task.id
            run.status = RunStatus.QUEUED if held else RunStatus.FIRED
            fired = Fired(task.id, schedule.user_id, task.priority, held=held)
        session.add(run)
    return fired


@dataclass(frozen=True)
class Predecessor:
    """The unfinished task a held task waits for, and what to wait on: its task workflow
    once it was started, else the tick workflow that holds it."""

    task_id: str
    started: bool
    tick_workflow_id: str | None


async def predecessor(schedule_id: str, task_id: str,
                      ignore: list[str] | None = None) -> Predecessor | None:
    """The latest unfinished task of the schedule created before `task_id` (but those in
    `ignore`)."""
    async with session_scope() as session:
        mine = await session.get_one(Task, task_id)
        earlier = (await session.scalars(
            select(Task).where(Task.schedule_id == schedule_id, Task.status.in_(UNFINISHED),
                               or_(Task.created_at < mine.created_at,
                                   and_(Task.created_at == mine.created_at, Task.id < task_id)),
                               Task.id.not_in(ignore or []))
            .order_by(Task.created_at.desc(), Task.id.desc()).limit(1))).first()
        if earlier is None:
            return None
        tick = await session.scalar(select(ScheduleRun.workflow_id).where(
            ScheduleRun.task_id == earlier.id))
        return Predecessor(earlier.id, earlier.status != TaskStatus.CREATED, tick)


async def release(task_id: str) -> bool:
    """Mark a held task queued (it is enqueued next); False when it was stopped meanwhile."""
    async with session_scope() as session:
        task = await session.get_one(Task, task_id)
        try:
            await tasks.mark_queued(session, user_id=task.user_id, task_id=task_id)
        except Conflict:
            return False
    return True
