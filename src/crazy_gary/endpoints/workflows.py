"""Auto-sleep as a durable schedule: one workflow per tick, whichever process runs it.

DBOS gives each tick the workflow id `sched-<name>-<time>`, so with several processes
on one database the check runs once per tick; the conditional claim in the manager
makes the sleep itself happen once even if two checks overlapped.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from dbos import DBOS

from crazy_gary import runtime
from crazy_gary.endpoints.service import get_manager

log = logging.getLogger(__name__)

SCHEDULE_NAME = "endpoints-auto-sleep"


@DBOS.step()
async def put_idle_endpoints_to_sleep() -> list[str]:
    slept = await get_manager().auto_sleep()
    if slept:
        log.info("auto-sleep put %s to sleep", ", ".join(slept))
    return slept


@DBOS.workflow()
async def auto_sleep_tick(scheduled_at: datetime, context: Any) -> None:
    await put_idle_endpoints_to_sleep()


async def register_auto_sleep() -> None:
    """(Re)create the schedule at each start; apply is create-or-replace, so races are safe."""
    manager = get_manager()
    if not any(p is not None and p.manageable for p in manager.providers.values()):
        return
    await DBOS.apply_schedules_async([{
        "schedule_name": SCHEDULE_NAME,
        "workflow_fn": auto_sleep_tick,
        "schedule": runtime.current().settings.endpoint_auto_sleep_check,
    }])
