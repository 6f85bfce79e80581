"""Schedule service: create, read, change, delete, run now, and the record of runs.

Each change is applied to the durable engine's scheduler once it is committed
(schedules/engine.py); a tick's own work is in schedules/ticks.py.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crazy_gary.db import utcnow
from crazy_gary.errors import ScheduleNotFound
from crazy_gary.kit.ids import new_id
from crazy_gary.kit.pagination import Page, fetch_page
from crazy_gary.kit.unit_of_work import after_commit
from crazy_gary.schedules import engine, ticks
from crazy_gary.schedules.models import Schedule, ScheduleRun
from crazy_gary.schedules.schemas import ScheduleCreate, ScheduleUpdate
from crazy_gary.schedules.status import RunStatus, Trigger
from crazy_gary.tasks import service as tasks
from crazy_gary.tasks.models import Task


def _template(data: Any) -> dict[str, Any]:
    """The stored task template: the fields given (defaults are the task service's)."""
    return dict(data.model_dump(exclude_none=True, mode="json"))


async def create_schedule(session: AsyncSession, *, user_id: int,
                          data: ScheduleCreate) -> Schedule:
    """A new schedule; the engine starts timing it once this commits."""
    schedule = Schedule(
        id=new_id("sched"), user_id=user_id, name=data.name, cron=data.cron,
        timezone=data.timezone, task=_template(data.task), overlap=data.overlap,
        enabled=data.enabled, catch_up=data.catch_up)
    session.add(schedule)
    await session.flush()
    after_commit(session, partial(engine.sync, schedule.id))
    return schedule


async def get_schedule(session: AsyncSession, *, user_id: int, schedule_id: str) -> Schedule:
    """The caller's schedule; anyone else's (or none) is SCHEDULE_NOT_FOUND."""
    schedule = await session.get(Schedule, schedule_id)
    if schedule is None or schedule.user_id != user_id:
        raise ScheduleNotFound(f"Schedule {schedule_id} not found")
    return schedule


async def list_schedules(session: AsyncSession, *, user_id: int,
                         page: Page) -> tuple[list[Schedule], int]:
    """The caller's schedules, newest first."""
    query = (select(Schedule).where(Schedule.user_id == user_id)
             .order_by(Schedule.created_at.desc(), Schedule.id.desc()))
    return await fetch_page(session, query, page)


async def update_schedule(session: AsyncSession, *, user_id: int, schedule_id: str,
                          data: ScheduleUpdate) -> Schedule:
    """Change the fields given; the engine re-times the schedule once this commits."""
    schedule = await get_schedule(session, user_id=user_id, schedule_id=schedule_id)
    changes = data.model_dump(exclude_unset=True)
    for field in ("name", "cron", "timezone", "overlap", "enabled", "catch_up"):
        if changes.get(field) is not None:
            setattr(schedule, field, changes[field])
    if data.task is not None:
        schedule.task = _template(data.task)
    schedule.updated_at = utcnow()
    await session.flush()
    after_commit(session, partial(engine.sync, schedule.id))
    return schedule


async def delete_schedule(session: AsyncSession, *, user_id: int, schedule_id: str) -> None:
    """Delete the schedule and its runs (its tasks stay); no tick fires after this commits."""
    schedule = await get_schedule(session, user_id=user_id, schedule_id=schedule_id)
    await session.delete(schedule)
    await session.flush()
    after_commit(session, partial(engine.sync, schedule_id))


async def run_now(session: AsyncSession, *, user_id: int, schedule_id: str,
                  default_model: str) -> Task:
    """Create and start the schedule's task at once (whatever the overlap policy: the
    caller asked for it), recorded as a manual run."""
    schedule = await get_schedule(session, user_id=user_id, schedule_id=schedule_id)
    task = await ticks.create_run_task(session, schedule, default_model=default_model,
                                       start=False)
    session.add(ScheduleRun(schedule_id=schedule.id, trigger=Trigger.MANUAL,
                            status=RunStatus.FIRED, task_id=task.id,
                            scheduled_for=utcnow()))
    return await tasks.start_task(session, user_id=user_id, task_id=task.id)


async def list_runs(session: AsyncSession, *, user_id: int, schedule_id: str,
                    page: Page) -> tuple[list[ScheduleRun], int]:
    """The schedule's runs, newest first."""
    await get_schedule(session, user_id=user_id, schedule_id=schedule_id)
    query = (select(ScheduleRun).where(ScheduleRun.schedule_id == schedule_id)
             .order_by(ScheduleRun.scheduled_for.desc(), ScheduleRun.id.desc()))
    return await fetch_page(session, query, page)


async def last_runs(session: AsyncSession, schedule_ids: list[str]) -> dict[str, Any]:
    """The latest run time of each schedule (for the listing)."""
    if not schedule_ids:
        return {}
    rows = await session.execute(
        select(ScheduleRun.schedule_id, func.max(ScheduleRun.scheduled_for))
        .where(ScheduleRun.schedule_id.in_(schedule_ids))
        .group_by(ScheduleRun.schedule_id))
    return {schedule_id: at for schedule_id, at in rows}
