"""The agent-task queue: priorities, a per-user cap, spread over every worker process."""

from __future__ import annotations

import logging

from dbos import DBOS, SetEnqueueOptions, SetWorkflowID
from sqlalchemy import select

from crazy_gary import runtime
from crazy_gary.db import session_scope
from crazy_gary.tasks.models import Task
from crazy_gary.tasks.status import TaskStatus

log = logging.getLogger(__name__)

QUEUE_NAME = "agent_tasks"
CHAT_QUEUE_NAME = "agent_chat"
# DBOS dequeues lower numbers first.
PRIORITY_RANK = {"critical": 1, "high": 2, "medium": 3, "low": 4}


async def register_queues() -> None:
    """Partitioned by user so one user's running tasks are capped (TASK_PER_USER_CONCURRENCY)."""
    queues = runtime.current().durable.queues
    settings = runtime.current().settings
    per_user = max(1, settings.task_per_user_concurrency)
    queues[QUEUE_NAME] = await DBOS.register_queue_async(
        QUEUE_NAME,
        worker_concurrency=max(per_user, settings.task_worker_concurrency),
        partition_concurrency=per_user,
        polling_interval_sec=settings.queue_polling_interval_seconds,
    )
    # Chat turns are interactive: no per-user cap behind long tasks, only a worker bound.
    queues[CHAT_QUEUE_NAME] = await DBOS.register_queue_async(
        CHAT_QUEUE_NAME,
        worker_concurrency=max(1, settings.task_worker_concurrency),
        polling_interval_sec=settings.queue_polling_interval_seconds,
    )


async def requeue_orphans() -> None:
    """Tasks marked queued whose workflow never got created (the process died between the
    commit and the enqueue) are enqueued now; the workflow id makes this idempotent.
    (Retries are forked instead: `tasks.forks.requeue_orphan_retries`.)"""
    async with session_scope() as session:
        rows = (await session.execute(
            select(Task.id, Task.user_id, Task.priority, Task.origin)
            .where(Task.status == TaskStatus.RUNNING, Task.phase == "queued",
                   Task.started_at.is_(None), Task.retry_of.is_(None)))).all()
    for task_id, user_id, priority, origin in rows:
        if await DBOS.get_workflow_status_async(task_id) is None:
            log.warning("re-enqueueing task %s (queued but never handed to the engine)", task_id)
            await enqueue_task(task_id, user_id=user_id, priority=priority,
                               chat=origin == "chat")


async def enqueue_task(task_id: str, *, user_id: int, priority: str, chat: bool = False) -> None:
    """Queue the task's workflow; the workflow id is the task id (so stop can cancel it)."""
    durable = runtime.current().durable
    queue = durable.queue(CHAT_QUEUE_NAME if chat else QUEUE_NAME)
    if durable.task_workflow is None:
        raise RuntimeError("durable engine built without the task workflow")
    options = SetEnqueueOptions(priority=PRIORITY_RANK.get(priority, 3),
                                queue_partition_key=None if chat else str(user_id))
    with SetWorkflowID(task_id), options:
        await queue.enqueue_async(durable.task_workflow, task_id)


async def cancel_task(task_id: str) -> None:
    """Cancel the workflow: no new step starts; in-flight model/tool steps are preempted."""
    if await DBOS.get_workflow_status_async(task_id) is None:
        return
    await DBOS.cancel_workflow_async(task_id, cancel_children=True)
