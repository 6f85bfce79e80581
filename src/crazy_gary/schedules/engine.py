"""Our schedules as the durable engine's cron schedules (one per enabled schedule).

The engine stores its schedules in its system database and every process's scheduler
polls them (SCHEDULES_POLL_SECONDS), so a schedule created, changed or deleted on one
process fires, changes or stops on all. Our table is the source of truth: each change is
applied after its commit, every process start reconciles the two, and a tick of a schedule
that is gone or disabled does nothing (schedules/ticks.py).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from dbos import DBOS
from sqlalchemy import select

from crazy_gary.db import session_scope
from crazy_gary.schedules import cron
from crazy_gary.schedules.models import Schedule
from crazy_gary.schedules.workflows import schedule_tick

log = logging.getLogger(__name__)

PREFIX = "user-schedule-"


def engine_name(schedule_id: str) -> str:
    return PREFIX + schedule_id


def _entry(schedule: Schedule) -> Any:
    return {"schedule_name": engine_name(schedule.id), "workflow_fn": schedule_tick,
            "schedule": schedule.cron, "context": {"schedule_id": schedule.id},
            "cron_timezone": schedule.timezone}


async def sync(schedule_id: str) -> None:
    """Make the engine's schedule match our row as it is now (gone/disabled: removed)."""
    async with session_scope() as session:
        schedule = await session.get(Schedule, schedule_id)
    if schedule is None or not schedule.enabled:
        await DBOS.delete_schedule_async(engine_name(schedule_id))
    else:
        await DBOS.apply_schedules_async([_entry(schedule)])


async def register_schedules() -> None:
    """At start: the engine's schedules made to match ours (create-or-replace keeps an
    unchanged schedule's running timer), then each catch-up schedule's last missed tick."""
    async with session_scope() as session:
        enabled = list(await session.scalars(select(Schedule).where(Schedule.enabled)))
    wanted = {engine_name(s.id) for s in enabled}
    for stale in await DBOS.list_schedules_async(schedule_name_prefix=PREFIX):
        if stale["schedule_name"] not in wanted:
            await DBOS.delete_schedule_async(stale["schedule_name"])
    if enabled:
        await DBOS.apply_schedules_async([_entry(s) for s in enabled])
    for schedule in enabled:
        if schedule.catch_up:
            await catch_up(schedule)


async def catch_up(schedule: Schedule, now: datetime | None = None) -> None:
    """Fire the last tick missed while no process ran, if any (never the earlier ones).

    A tick counts as missed when it fell after the engine last fired this schedule (or,
    never fired, after the schedule was created or last changed). It is enqueued under
    the same workflow id the live scheduler gives it, so a tick that did fire is not
    fired again."""
    record = await DBOS.get_schedule_async(engine_name(schedule.id))
    if record is None:
        return
    last = cron.last_tick(schedule.cron, schedule.timezone, now)
    fired = record.get("last_fired_at")
    # never fired since the engine's schedule was (re)made: since the last change
    since = datetime.fromisoformat(fired) if fired else schedule.updated_at
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    if last <= since:
        return
    log.info("schedule %s: catching up the tick of %s", schedule.id, last.isoformat())
    tiny = timedelta(microseconds=1)
    await asyncio.to_thread(DBOS.backfill_schedule, engine_name(schedule.id),
                            last - tiny, last + tiny)
