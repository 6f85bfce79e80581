"""State changes made by the running workflow; each records a `task_update` in its own
transaction (the event is fanned out once that commits).

Every write is conditional on the task still running, so a stop (which writes
`stopped` first) is never overwritten by a step that was already in flight, and
every write is idempotent so a step re-run after a crash changes nothing twice.

The writes every step makes run as synchronous transactions in one worker-thread hop
each (`db.thread_transaction`): the agent makes them for every model and tool call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import Float, Integer, Table, bindparam, case, func, select, update
from sqlalchemy import and_ as sa_and
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crazy_gary import runtime
from crazy_gary.config import get_settings
from crazy_gary.db import UTCDateTime, session_scope, thread_transaction, utcnow
from crazy_gary.errors import AppError
from crazy_gary.kit.clock import iso
from crazy_gary.kit.dml import rows_changed_now
from crazy_gary.observability.metrics import TASKS
from crazy_gary.realtime import record
from crazy_gary.tasks.models import Task, TaskStep
from crazy_gary.tasks.presenters import duration_seconds, event_payload, step_dict
from crazy_gary.tasks.schemas import TaskOptions, TaskSpec
from crazy_gary.tasks.status import UNFINISHED, TaskStatus
from crazy_gary.usage import ledger as usage_ledger
from crazy_gary.usage import quota as usage_quota

log = logging.getLogger(__name__)


def _record_task(session: Session, task: Task, **extra: Any) -> None:
    record(session, "task_update", event_payload(task, **extra), user_id=task.user_id)


async def begin(task_id: str) -> TaskSpec | None:
    """Mark the task running (planning) and return what the agent needs; None if not runnable."""
    executor_id = get_settings().executor_id
    spec = await thread_transaction(lambda session: _begin(session, task_id, executor_id))
    if spec is not None:
        runtime.current().task_phases[task_id] = ("planning", None)
    return spec


def _begin(session: Session, task_id: str, executor_id: str) -> TaskSpec | None:
    # Locked until this commits (PostgreSQL): a stop committed after the read would
    # otherwise be overwritten by the write below. SQLite serialises writers itself.
    task = session.get(Task, task_id, with_for_update=True)
    if task is None or task.status not in UNFINISHED:
        return None
    now = utcnow()
    task.status = TaskStatus.RUNNING
    task.phase = "planning"
    task.phase_reason = None
    task.started_at = task.started_at or now
    task.executor_id = executor_id
    task.updated_at = now
    spec = TaskSpec(
        task_id=task.id, user_id=task.user_id, title=task.title,
        description=task.description, model=task.model,
        options=TaskOptions.of(task.options), started_at=task.started_at.timestamp(),
        conversation_id=task.conversation_id, origin=task.origin,
        history=_history(session, task) if task.conversation_id else [])
    _record_task(session, task)
    return spec


def _history(session: Session, task: Task, turns: int = 20) -> list[dict[str, str]]:
    """Earlier answered turns of the same conversation, oldest first."""
    rows = session.scalars(
        select(Task).where(Task.conversation_id == task.conversation_id,
                           Task.user_id == task.user_id, Task.id != task.id,
                           Task.created_at <= task.created_at, Task.answer.is_not(None))
        .order_by(Task.created_at.desc()).limit(turns))
    history: list[dict[str, str]] = []
    for earlier in reversed(list(rows)):
        history.append({"role": "user", "content": earlier.description})
        history.append({"role": "assistant", "content": earlier.answer or ""})
    return history


async def set_phase(task_id: str, phase: str, reason: str | None = None) -> None:
    """Record the phase (skipped when this process already wrote the same one)."""
    if runtime.current().task_phases.get(task_id) == (phase, reason):
        return
    runtime.current().task_phases[task_id] = (phase, reason)
    await thread_transaction(lambda session: _set_phase(session, task_id, phase, reason))


def _set_phase(session: Session, task_id: str, phase: str, reason: str | None) -> None:
    changed = rows_changed_now(
        session, update(Task).where(Task.id == task_id, Task.status == TaskStatus.RUNNING,
                           (Task.phase != phase) | (Task.phase.is_(None))
                           | (func.coalesce(Task.phase_reason, "") != (reason or "")))
        .values(phase=phase, phase_reason=reason, updated_at=utcnow())
        .execution_options(synchronize_session=False))
    if changed == 1:
        _record_task(session, session.get_one(Task, task_id))


async def save_plan(task_id: str, plan: list[str], progress: int) -> None:
    await thread_transaction(lambda session: _save_plan(session, task_id, plan, progress))
    # the next model call's set_phase("acting") then writes nothing (one transaction less)
    runtime.current().task_phases[task_id] = ("acting", None)


async def record_plan_step(task_id: str, seq: int, plan: list[str], plan_progress: int,
                           **step: Any) -> None:
    """`record_step` of the plan's model call and `save_plan`, in one transaction."""

    def write(session: Session) -> None:
        _record_step(session, task_id, seq, **step)
        _save_plan(session, task_id, plan, plan_progress)

    await _write_step(task_id, seq, write)
    runtime.current().task_phases[task_id] = ("acting", None)


def _save_plan(session: Session, task_id: str, plan: list[str], progress: int) -> None:
    changed = rows_changed_now(
        session, update(Task).where(Task.id == task_id, Task.status == TaskStatus.RUNNING)
        .values(plan=plan, phase="acting", phase_reason=None,
                progress=case((Task.progress < progress, progress), else_=Task.progress),
                updated_at=utcnow())
        .execution_options(synchronize_session=False))
    if changed == 1:
        _record_task(session, session.get_one(Task, task_id), plan=plan)


async def record_step(task_id: str, seq: int, **step: Any) -> None:
    """Add one step (once per seq) and its usage to the task; progress only moves forward.
    A step that ends after its task was deleted (with its owner) records nothing."""
    await _write_step(task_id, seq,
                      lambda session: _record_step(session, task_id, seq, **step))


async def _write_step(task_id: str, seq: int, write: Callable[[Session], None]) -> None:
    try:
        await thread_transaction(write)
    except IntegrityError:
        async with session_scope() as session:
            if await session.scalar(select(Task.id).where(Task.id == task_id)) is not None:
                raise
        log.info("task %s was deleted while a step ran; step %s not recorded", task_id, seq)


async def recorded_step(task_id: str, seq: int) -> tuple[str, str | None] | None:
    """(outcome, output) of the step recorded under `seq`, or None."""
    async with session_scope() as session:
        row = (await session.execute(
            select(TaskStep.outcome, TaskStep.output)
            .where(TaskStep.task_id == task_id, TaskStep.seq == seq))).first()
    return (row.outcome, row.output) if row is not None else None


def _record_step(
    session: Session,
    task_id: str,
    seq: int,
    *,
    kind: str,
    outcome: str = "ok",
    name: str | None = None,
    arguments: Any = None,
    output: str | None = None,
    model: str | None = None,
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    cost_usd: float = 0.0,
    latency_ms: float = 0.0,
    progress: int | None = None,
    billed: bool = True,
) -> None:
    """`billed` False: a call that did not run (refused, declined, expired), recorded for
    the model and the reader but not counted as usage."""
    now = utcnow()
    step = TaskStep(task_id=task_id, seq=seq, kind=kind, outcome=outcome, name=name,
                    arguments=arguments, output=output, model=model,
                    prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                    cost_usd=cost_usd, latency_ms=latency_ms, created_at=now)
    # one statement both inserts and tells whether this seq was already recorded
    inserted = session.scalar(_STEP_INSERT[session.get_bind().dialect.name], dict(
        task_id=task_id, seq=seq, kind=kind, outcome=outcome, name=name,
        arguments=arguments, output=output, model=model, prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens, cost_usd=cost_usd, latency_ms=latency_ms,
        created_at=now))
    if inserted is None:
        return
    totals = dict(task_id=task_id, prompt=prompt_tokens, completion=completion_tokens,
                  cost=cost_usd, at=utcnow())
    if progress is None:
        row = session.execute(_ADD_STEP_TOTALS, totals).first()
    else:
        row = session.execute(_ADD_STEP_TOTALS_AND_PROGRESS,
                              {**totals, "progress": min(progress, 99)}).first()
    if row is None:
        return
    # billed in the step's transaction: a step recorded once is billed once
    if billed:
        usage_ledger.add(
            session, user_id=row.user_id, task_id=task_id, step_kind=kind, model=model,
            tool=name, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
            cost_usd=cost_usd, at=now)
    if row.status == TaskStatus.RUNNING:
        record(session, "task_update", _row_payload(row, step=step_dict(step)),
               user_id=row.user_id)


_EVENT_COLUMNS = (Task.id, Task.user_id, Task.title, Task.status, Task.phase, Task.phase_reason,
                  Task.progress, Task.updated_at)


# Built once: constructing these statements (and their cache keys) per step cost more CPU
# than running them.
_STEPS = cast(Table, TaskStep.__table__)
_STEP_INSERT = {
    name: insert(_STEPS).on_conflict_do_nothing(index_elements=["task_id", "seq"])
    .returning(_STEPS.c.id)
    for name, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))}
_STEP_TOTALS = dict(
    prompt_tokens=Task.prompt_tokens + bindparam("prompt", type_=Integer),
    completion_tokens=Task.completion_tokens + bindparam("completion", type_=Integer),
    total_tokens=Task.total_tokens + bindparam("prompt", type_=Integer)
    + bindparam("completion", type_=Integer),
    cost_usd=Task.cost_usd + bindparam("cost", type_=Float),
    updated_at=bindparam("at", type_=UTCDateTime()))
_ADD_STEP_TOTALS = (
    update(Task).where(Task.id == bindparam("task_id")).values(**_STEP_TOTALS)
    .returning(*_EVENT_COLUMNS).execution_options(synchronize_session=False))
_ADD_STEP_TOTALS_AND_PROGRESS = (
    update(Task).where(Task.id == bindparam("task_id")).values(
        **_STEP_TOTALS, progress=case(
            (sa_and(Task.status == TaskStatus.RUNNING,
                    Task.progress < bindparam("progress", type_=Integer)),
             bindparam("progress", type_=Integer)),
            else_=Task.progress))
    .returning(*_EVENT_COLUMNS).execution_options(synchronize_session=False))

_OWNER_STANDING = usage_quota.standing_query(
    select(Task.user_id).where(Task.id == bindparam("task_id")).scalar_subquery())


async def quota_refusal(task_id: str) -> AppError | None:
    """429 QUOTA_EXCEEDED when the task's owner has used up a monthly limit (checked before
    each model call), else None."""
    return await thread_transaction(lambda session: usage_quota.refusal_by(
        session, _OWNER_STANDING, {"task_id": task_id}))


def _row_payload(row: Any, **extra: Any) -> dict[str, Any]:
    data = {"task_id": row.id, "user_id": str(row.user_id), "title": row.title,
            "status": row.status,
            "phase": row.phase, "phase_reason": row.phase_reason, "progress": row.progress,
            "updated_at": iso(row.updated_at)}
    data.update(extra)
    return data


async def finish(
    task_id: str,
    *,
    status: TaskStatus,
    answer: str | None = None,
    answered_by: str | None = None,
    error: dict[str, str] | None = None,
) -> str:
    """End a running task as completed, failed (or stopped, a streamed turn whose client
    left); returns the task's final status."""
    runtime.current().task_phases.pop(task_id, None)
    changed, final = await thread_transaction(
        lambda session: _finish(session, task_id, status, answer, answered_by, error))
    if changed:
        TASKS.labels(status=status).inc()
    return final


def _finish(session: Session, task_id: str, status: TaskStatus, answer: str | None,
            answered_by: str | None, error: dict[str, str] | None) -> tuple[bool, str]:
    now = utcnow()
    values: dict[str, Any] = dict(status=status, phase=None, phase_reason=None,
                                  updated_at=now, completed_at=now, error=error)
    if answer is not None:
        values["answer"] = answer
    if answered_by is not None:
        values["answered_by"] = answered_by
    if status == TaskStatus.COMPLETED:
        values["progress"] = 100
    changed = rows_changed_now(
        session,
        update(Task).where(Task.id == task_id, Task.status == TaskStatus.RUNNING)
        .values(**values)
        .execution_options(synchronize_session=False)) == 1
    task = session.get(Task, task_id)
    if task is None:
        return False, "missing"
    if changed:
        _record_task(session, task)
        record(session, "task_completed",
               event_payload(task, duration=duration_seconds(task)), user_id=task.user_id)
    return changed, task.status
