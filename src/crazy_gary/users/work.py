"""Stopping everything a user has running (before the account is deleted)."""

from __future__ import annotations

import contextlib

from sqlalchemy import select

from crazy_gary.db import session_scope
from crazy_gary.errors import Conflict, NotFound
from crazy_gary.heavy import service as heavy
from crazy_gary.heavy.models import Orchestration
from crazy_gary.heavy.status import TERMINAL_ORCHESTRATION
from crazy_gary.tasks import queue
from crazy_gary.tasks import service as tasks
from crazy_gary.tasks.models import Task
from crazy_gary.tasks.status import UNFINISHED


async def stop_work(user_id: int) -> None:
    """Stop the user's orchestrations, then its tasks and chat turns, each the way its
    owner's stop does: marked stopped (committed), then its workflow cancelled. Work that
    ends meanwhile is skipped."""
    async with session_scope() as session:
        orchestrations = list(await session.scalars(
            select(Orchestration.id).where(Orchestration.user_id == user_id,
                                           Orchestration.status.not_in(TERMINAL_ORCHESTRATION))))
    for orchestration_id in orchestrations:
        with contextlib.suppress(Conflict, NotFound):
            async with session_scope() as session:
                await heavy.stop_orchestration(session, user_id=user_id,
                                               orchestration_id=orchestration_id)
    async with session_scope() as session:
        running = list(await session.scalars(
            select(Task.id).where(Task.user_id == user_id,
                                  Task.status.in_(UNFINISHED))))
    for task_id in running:
        with contextlib.suppress(Conflict):
            async with session_scope() as session:
                await tasks.mark_stopped(session, user_id=user_id, task_id=task_id)
        await queue.cancel_task(task_id)
