"""A chat turn is a small task on the interactive queue; the request waits for its end.

The request never awaits the workflow handle (dbos#425): it waits for the task's
`task_update`/`task_completed` event and then reads the task row, which the workflow
writes wherever it runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from crazy_gary.chat.schemas import ChatRequest
from crazy_gary.config import Settings
from crazy_gary.db import session_scope
from crazy_gary.errors import (
    AppError,
    EndpointUnavailable,
    ServiceUnavailable,
    TaskNotFound,
    UsageQuotaExceeded,
)
from crazy_gary.kit.ids import new_id
from crazy_gary.kit.unit_of_work import after_commit
from crazy_gary.realtime.broker import PublishedEvent
from crazy_gary.realtime.waits import wait_for
from crazy_gary.tasks import queue, service
from crazy_gary.tasks.models import Task
from crazy_gary.tasks.schemas import TaskCreate
from crazy_gary.tasks.status import TaskStatus
from crazy_gary.usage.quota import ensure_within as ensure_within_quota


def turn_description(body: ChatRequest) -> str:
    if body.context:
        return f"Context: {body.context}\n\n{body.message}"
    return body.message


@dataclass(frozen=True)
class Turn:
    """A recorded chat turn: its task, and the conversation it belongs to."""

    task_id: str
    conversation_id: str


async def create_turn(session: AsyncSession, *, user_id: int, body: ChatRequest,
                      settings: Settings, conversation_id: str) -> Task:
    """Record the turn as a queued task of origin `chat` (the caller commits)."""
    data = TaskCreate(title=body.message.strip()[:200] or "chat", model=body.model,
                      description=turn_description(body)[:20_000], priority="high",
                      tool_policy=body.tool_policy)
    task = await service.create_task(
        session, user_id=user_id, data=data, default_model=settings.task_default_model,
        origin="chat", conversation_id=conversation_id, queued=True)
    return task


async def open_turn(session: AsyncSession, *, user_id: int, body: ChatRequest,
                    settings: Settings, enqueue: bool) -> Turn:
    """Record the turn and commit it (the caller then waits on or streams it); `enqueue`:
    hand it to the chat queue once committed (the worker must find the row). 429
    QUOTA_EXCEEDED when a monthly limit of the user is used up."""
    await ensure_within_quota(session, user_id)
    conversation_id = body.conversation_id or new_id("conv")
    task = await create_turn(session, user_id=user_id, body=body, settings=settings,
                             conversation_id=conversation_id)
    if enqueue:
        after_commit(session, partial(start_turn, task))
    await session.commit()
    return Turn(task_id=task.id, conversation_id=conversation_id)


async def start_turn(task: Task) -> None:
    await queue.enqueue_task(task.id, user_id=task.user_id, priority=task.priority, chat=True)


async def wait_for_answer(task_id: str, *, within: float) -> Task:
    """Wait for the task's end (by its events); raise the task's error as the API error."""
    async with session_scope() as session:
        first = await session.get(Task, task_id)
    if first is None:
        raise TaskNotFound()

    async def ended() -> Task | None:
        async with session_scope() as session:
            task = await session.get(Task, task_id)
        return task if task is not None and service.is_final(task.status) else None

    def ends_it(event: PublishedEvent) -> bool:
        return (event.data.get("task_id") == task_id
                and service.is_final(str(event.data.get("status"))))

    task = await wait_for(ended, user_id=first.user_id, match=ends_it, within=within)
    if task is None:
        async with session_scope() as session:
            gone = await session.get(Task, task_id) is None
        if gone:
            raise TaskNotFound()
        await queue.cancel_task(task_id)
        raise ServiceUnavailable("The agent did not answer in time", code="CHAT_TIMEOUT",
                                 details={"task_id": task_id})
    if task.status == TaskStatus.COMPLETED:
        return task
    error = task.error or {"code": "CHAT_FAILED", "message": f"The turn ended {task.status}"}
    details = {"task_id": task_id}
    if error.get("code") == "ENDPOINT_UNAVAILABLE":
        raise EndpointUnavailable(error.get("message"), details=details)
    if error.get("code") == UsageQuotaExceeded.code:  # a limit used up during the turn
        raise UsageQuotaExceeded(error.get("message"), details=details)
    raise AppError(error.get("message"), code=error.get("code", "CHAT_FAILED"),
                   status_code=503 if error.get("code") != "INTERNAL_ERROR" else 500,
                   details=details)
