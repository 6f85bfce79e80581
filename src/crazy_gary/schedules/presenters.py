"""ORM rows to API shapes."""

from __future__ import annotations

from datetime import datetime

from crazy_gary.kit.clock import iso
from crazy_gary.schedules import cron
from crazy_gary.schedules.models import Schedule, ScheduleRun
from crazy_gary.schedules.schemas import ScheduleRead, ScheduleRunRead


def next_run_at(schedule: Schedule) -> str | None:
    if not schedule.enabled:
        return None
    try:
        return iso(cron.next_tick(schedule.cron, schedule.timezone))
    except ValueError:  # cannot happen for a stored (validated) expression
        return None


def schedule_read(schedule: Schedule, last_run_at: datetime | None = None) -> ScheduleRead:
    return ScheduleRead.model_validate(dict(
        id=schedule.id, name=schedule.name, cron=schedule.cron, timezone=schedule.timezone,
        task=schedule.task, overlap=schedule.overlap, enabled=schedule.enabled,
        catch_up=schedule.catch_up, next_run_at=next_run_at(schedule),
        last_run_at=iso(last_run_at), created_at=iso(schedule.created_at),
        updated_at=iso(schedule.updated_at)))


def run_read(run: ScheduleRun) -> ScheduleRunRead:
    return ScheduleRunRead.model_validate(dict(
        id=run.id, status=run.status, trigger=run.trigger, task_id=run.task_id,
        reason=run.reason,
        scheduled_for=iso(run.scheduled_for), created_at=iso(run.created_at)))
