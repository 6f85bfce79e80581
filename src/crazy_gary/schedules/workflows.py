"""The durable workflow of one tick, started by the engine's scheduler.

DBOS names each tick's workflow `sched-<schedule name>-<tick time>`, so with any number
of processes on one database a tick runs once. The tick's database work is a step
(schedules/ticks.py, itself idempotent); the task's own workflow is enqueued from the
workflow body (a step may not start workflows), its id the task id, so a re-run
enqueues nothing twice.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from dbos import DBOS, WorkflowHandleAsync

from crazy_gary import runtime
from crazy_gary.schedules import ticks
from crazy_gary.tasks import queue

log = logging.getLogger(__name__)

# A held task's predecessor with nothing to wait on yet is looked at again after
# RECHECK_SECONDS, at most RECHECKS times.
RECHECK_SECONDS = 1.0
RECHECKS = 30


@DBOS.step()
async def fire_step(schedule_id: str, scheduled_for: datetime,
                    workflow_id: str) -> ticks.Fired | None:
    return await ticks.fire(schedule_id, scheduled_for, workflow_id=workflow_id,
                            default_model=runtime.current().settings.task_default_model)


@DBOS.step()
async def predecessor_step(schedule_id: str, task_id: str,
                           ignore: list[str]) -> ticks.Predecessor | None:
    return await ticks.predecessor(schedule_id, task_id, ignore)


@DBOS.step()
async def release_step(task_id: str) -> bool:
    return await ticks.release(task_id)


@DBOS.step()
async def workflow_exists_step(workflow_id: str) -> bool:
    return await DBOS.get_workflow_status_async(workflow_id) is not None


@DBOS.workflow()
async def schedule_tick(scheduled_at: datetime, context: Any) -> None:
    """Fire one tick of the schedule named in `context`: create and start its task (or
    skip it, or hold it until the previous run ended, by the schedule's overlap)."""
    schedule_id = str(context["schedule_id"])
    workflow_id = DBOS.workflow_id or ""
    fired = await fire_step(schedule_id, scheduled_at.astimezone(UTC), workflow_id)
    if fired is None or fired.task_id is None:
        return
    if fired.held:
        await _wait_for_predecessors(schedule_id, fired.task_id)
        if not await release_step(fired.task_id):
            return  # stopped while it waited
    await queue.enqueue_task(fired.task_id, user_id=fired.user_id, priority=fired.priority)


async def _wait_for_predecessors(schedule_id: str, task_id: str) -> None:
    """Durably wait until no earlier task of the schedule is unfinished: on the earlier
    task's workflow once started, else on the tick workflow that holds it. An earlier task
    with nothing left to wait on (its workflow ended yet its row never finished) is given
    up on after RECHECKS looks, so one broken run cannot hold the schedule forever."""
    ended: list[str] = []      # workflows waited on to their end
    given_up: list[str] = []   # earlier tasks no longer waited for
    looks = 0
    while (earlier := await predecessor_step(schedule_id, task_id, given_up)) is not None:
        target = earlier.task_id if earlier.started else earlier.tick_workflow_id
        if target is not None and target not in ended and await workflow_exists_step(target):
            handle: WorkflowHandleAsync[Any] = await DBOS.retrieve_workflow_async(target)
            try:
                await handle.get_result()
            except Exception:  # failed or cancelled: it is over either way
                pass
            ended.append(target)
            looks = 0
        elif (looks := looks + 1) > RECHECKS:
            given_up.append(earlier.task_id)
            looks = 0
        else:  # its workflow is not there yet, or its end is not written yet
            await DBOS.sleep_async(RECHECK_SECONDS)
