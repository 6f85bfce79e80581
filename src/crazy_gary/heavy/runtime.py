"""State changes of running orchestrations: the row and its `orchestration_update` event in
one transaction; the wake-up (and the event's fan-out) once it is committed.

Terminal states are sticky: an update names the states it may move from, so a step
cancelled by stop or timeout is never overwritten by a late result.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crazy_gary import runtime as process
from crazy_gary.db import session_scope, utcnow
from crazy_gary.heavy.models import Orchestration, OrchestrationStep
from crazy_gary.heavy.presenters import event_body
from crazy_gary.heavy.status import ORCHESTRATION_ACTIVE, TERMINAL_STEP, StepStatus
from crazy_gary.kit.dml import rows_changed
from crazy_gary.realtime import record

ACTIVE_STEP = (StepStatus.PENDING, StepStatus.RUNNING)


class ChangeWaiters:
    """Who in this process waits on which orchestration's steps (one per runtime)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.waiters: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}


def notify(orch_id: str) -> None:
    """Wake everything in this process waiting on the orchestration's steps."""
    waiting = process.current().orchestration_waiters
    with waiting.lock:
        waiters = list(waiting.waiters.get(orch_id, ()))
    for loop, event in waiters:
        try:
            loop.call_soon_threadsafe(event.set)
        except RuntimeError:  # loop closed
            pass


async def wait_change(orch_id: str, seconds: float) -> None:
    """Return when a step of the orchestration changes here, or after `seconds` (other
    processes' changes are seen by the caller re-reading the database)."""
    waiting = process.current().orchestration_waiters
    entry = (asyncio.get_running_loop(), asyncio.Event())
    with waiting.lock:
        waiting.waiters.setdefault(orch_id, set()).add(entry)
    try:
        await asyncio.wait_for(entry[1].wait(), timeout=max(0.0, seconds))
    except TimeoutError:
        pass
    finally:
        with waiting.lock:
            group = waiting.waiters.get(orch_id)
            if group is not None:
                group.discard(entry)
                if not group:
                    waiting.waiters.pop(orch_id, None)


async def load(orch_id: str) -> tuple[Orchestration, list[OrchestrationStep]]:
    async with session_scope() as session:
        orch = await session.get(Orchestration, orch_id)
        if orch is None:
            raise LookupError(orch_id)
        steps = (await session.scalars(
            select(OrchestrationStep).where(OrchestrationStep.orchestration_id == orch_id)
            .order_by(OrchestrationStep.position))).all()
        return orch, list(steps)


async def record_update(session: AsyncSession, orch_id: str, step: int | None = None) -> None:
    """Record the orchestration's state in this transaction as an orchestration_update."""
    orch = await session.get(Orchestration, orch_id, populate_existing=True)
    if orch is None:
        return
    steps = list((await session.scalars(
        select(OrchestrationStep).where(OrchestrationStep.orchestration_id == orch_id)
        .order_by(OrchestrationStep.position)
        .execution_options(populate_existing=True))).all())
    changed = next((s for s in steps if s.step == step), None)
    record(session, "orchestration_update", event_body(orch, steps, changed),
           user_id=orch.user_id)


async def update_step(orch_id: str, step: int, *, allowed_from: tuple[str, ...] = ACTIVE_STEP,
                      announce_change: bool = True, **values: Any) -> bool:
    """Change a step if it is still in one of `allowed_from`; True when it changed."""
    if values.get("status") in TERMINAL_STEP:
        values.setdefault("completed_at", utcnow())
    async with session_scope() as session:
        changed = await rows_changed(
            session,
            update(OrchestrationStep)
            .where(OrchestrationStep.orchestration_id == orch_id,
                   OrchestrationStep.step == step,
                   OrchestrationStep.status.in_(allowed_from))
            .values(**values)) > 0
        if changed and "completed_at" in values:
            row = await session.scalar(select(OrchestrationStep).where(
                OrchestrationStep.orchestration_id == orch_id, OrchestrationStep.step == step))
            if row is not None and row.started_at is not None and row.completed_at is not None:
                row.duration = (row.completed_at - row.started_at).total_seconds()
        if changed and announce_change:
            await record_update(session, orch_id, step)
    if changed:
        notify(orch_id)
    return changed


async def stop_active_steps(orch_id: str, *, status: str, error: str) -> list[str]:
    """End every step still pending or running (timeout); the sub-agent tasks of the
    steps ended (to stop them too)."""
    async with session_scope() as session:
        task_ids = await _end_active_steps(session, orch_id, status=status, error=error,
                                           now=utcnow())
    notify(orch_id)
    return task_ids


async def end_orchestration(orch_id: str, *, status: str, error: str,
                            step_error: str) -> list[str] | None:
    """End a running orchestration and its unfinished steps in one transaction (stop):
    the run's own finish, woken by the steps ending, then finds it already ended and
    cannot record another outcome. The sub-agent tasks of the steps ended (to stop them
    too); None when the orchestration had already ended."""
    now = utcnow()
    async with session_scope() as session:
        if await rows_changed(session, update(Orchestration).where(
                Orchestration.id == orch_id, Orchestration.status.in_(ORCHESTRATION_ACTIVE))
                .values(status=status, error=error, completed_at=now)) == 0:
            return None
        task_ids = await _end_active_steps(session, orch_id, status=StepStatus.CANCELLED,
                                           error=step_error, now=now)
        await session.flush()
        await record_update(session, orch_id)
    notify(orch_id)
    return task_ids


async def _end_active_steps(session: AsyncSession, orch_id: str, *, status: str, error: str,
                            now: datetime) -> list[str]:
    rows = (await session.scalars(select(OrchestrationStep).where(
        OrchestrationStep.orchestration_id == orch_id,
        OrchestrationStep.status.in_(ACTIVE_STEP)))).all()
    for row in rows:
        row.status = status
        row.error = error
        row.completed_at = now
        if row.started_at is not None:
            row.duration = (now - row.started_at).total_seconds()
    return [r.task_id for r in rows if r.task_id]


async def update_orchestration(orch_id: str, *, allowed_from: tuple[str, ...] | None = None,
                               **values: Any) -> bool:
    async with session_scope() as session:
        stmt = update(Orchestration).where(Orchestration.id == orch_id)
        if allowed_from is not None:
            stmt = stmt.where(Orchestration.status.in_(allowed_from))
        changed = await rows_changed(session, stmt.values(**values)) > 0
        if changed:
            await record_update(session, orch_id)
    if changed:
        notify(orch_id)
    return changed


async def tool_estimates(session: AsyncSession, tools: set[str],
                         defaults: dict[str, float]) -> dict[str, float]:
    """Mean recorded duration of completed runs per tool, else the tool's typical time."""
    estimates = dict(defaults)
    if tools:
        rows = await session.execute(
            select(OrchestrationStep.tool, func.avg(OrchestrationStep.duration))
            .where(OrchestrationStep.tool.in_(tools),
                   OrchestrationStep.status == StepStatus.COMPLETED,
                   OrchestrationStep.duration.is_not(None))
            .group_by(OrchestrationStep.tool))
        for tool, avg in rows:
            if avg is not None:
                estimates[tool] = round(float(avg), 2)
    return estimates
