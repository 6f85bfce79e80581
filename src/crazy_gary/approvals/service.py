"""Approvals: created and awaited by a task's workflow, listed and decided by people.

The workflow side (`request`, `poll`) runs inside durable steps; the people side (`decide`,
`cancel_pending`) wakes the waiting workflow with a durable message on `TOPIC` once its
transaction commits, so a decision made on any process resumes the task wherever it runs.
Every status change is conditional on the approval still being pending: one decision wins,
and its event is recorded in the same transaction (the outbox).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from dbos import DBOS
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crazy_gary.approvals.models import (
    APPROVED,
    CANCELLED,
    DENIED,
    EXPIRED,
    PENDING,
    Approval,
)
from crazy_gary.approvals.presenters import event_payload
from crazy_gary.approvals.schemas import ApprovalDecision
from crazy_gary.db import session_scope, utcnow
from crazy_gary.errors import ApprovalNotFound, Conflict, ValidationFailed
from crazy_gary.kit.dml import rows_changed
from crazy_gary.kit.ids import new_id
from crazy_gary.kit.pagination import Page, fetch_page
from crazy_gary.kit.unit_of_work import after_commit
from crazy_gary.realtime import record
from crazy_gary.toolhub.validation import validate_parameters

log = logging.getLogger(__name__)

TOPIC = "approval"


# -- the workflow's side ------------------------------------------------------------------

@dataclass(frozen=True)
class ApprovalRequest:
    """One call to put to a person (a checkpointed value)."""

    call_key: str
    tool_call_id: str
    tool: str
    arguments: Any
    parameters_schema: dict[str, Any] | None
    reason: str


@dataclass(frozen=True)
class Verdict:
    """Where one approval stands: its status, the arguments to run and the comment."""

    approval_id: str
    status: str
    arguments: Any
    comment: str | None


@dataclass(frozen=True)
class Poll:
    """Every asked approval's verdict; `wait_seconds` until the first pending one expires
    (None once none is pending)."""

    verdicts: list[Verdict]
    wait_seconds: float | None
    polled_at: float = 0.0  # epoch seconds: how long a wait took, read from checkpoints

    @property
    def stopped(self) -> bool:
        return any(v.status == CANCELLED for v in self.verdicts)


async def request(task_id: str, user_id: int, items: list[ApprovalRequest],
                  timeout_seconds: float) -> list[str]:
    """Create the approvals (once: a re-run finds those it made) with their
    `approval_requested` events; returns their ids in the order asked."""
    ids: list[str] = []
    async with session_scope() as session:
        for item in items:
            existing = await session.scalar(select(Approval.id).where(
                Approval.task_id == task_id, Approval.call_key == item.call_key))
            if existing is not None:
                ids.append(existing)
                continue
            now = utcnow()
            row = Approval(
                id=new_id("appr"), task_id=task_id, user_id=user_id, call_key=item.call_key,
                tool_call_id=item.tool_call_id[:200], tool=item.tool[:200],
                arguments=item.arguments, parameters_schema=item.parameters_schema,
                reason=item.reason[:4000], status=PENDING, requested_at=now,
                expires_at=now + timedelta(seconds=timeout_seconds))
            session.add(row)
            await session.flush()
            record(session, "approval_requested", event_payload(row), user_id=user_id)
            ids.append(row.id)
    return ids


async def poll(ids: list[str]) -> Poll:
    """The approvals' verdicts; pending ones past their expiry become `expired` here."""
    async with session_scope() as session:
        now = utcnow()
        rows = {r.id: r for r in await session.scalars(
            select(Approval).where(Approval.id.in_(ids)))}
        for row in rows.values():
            if row.status == PENDING and row.expires_at <= now:
                await _settle(session, row, EXPIRED, now)
        verdicts = [Verdict(i, rows[i].status, _to_run(rows[i]), rows[i].comment)
                    for i in ids if i in rows]
        pending = [rows[i].expires_at for i in ids if i in rows and rows[i].status == PENDING]
    wait = (max(0.05, (min(pending) - now).total_seconds() + 0.05) if pending else None)
    return Poll(verdicts, wait, now.timestamp())


async def _settle(session: AsyncSession, row: Approval, status: str, now: datetime,
                  **values: Any) -> bool:
    """pending -> `status` (only if still pending) with its `approval_decided` event."""
    changed = await rows_changed(session, update(Approval).where(
        Approval.id == row.id, Approval.status == PENDING)
        .values(status=status, decided_at=now, **values)
        .execution_options(synchronize_session=False))
    await session.refresh(row)
    if changed == 1:
        record(session, "approval_decided", event_payload(row), user_id=row.user_id)
    return changed == 1


def _to_run(row: Approval) -> Any:
    return row.decided_arguments if row.decided_arguments is not None else row.arguments


async def wake(task_id: str) -> None:
    """Tell the task's workflow to look at its approvals again (a durable message: it is
    delivered even if the workflow's process is restarting)."""
    try:
        await DBOS.send_async(task_id, "look", topic=TOPIC)
    except Exception as exc:  # no such workflow (never started, or long gone): nothing waits
        log.info("no workflow to wake for task %s: %s", task_id, exc)


async def cancel_pending(session: AsyncSession, *, task_id: str) -> int:
    """The task was stopped: its pending approvals become `cancelled` (in the caller's
    transaction) and its workflow is woken to end once that commits."""
    now = utcnow()
    rows = list(await session.scalars(
        select(Approval).where(Approval.task_id == task_id, Approval.status == PENDING)))
    cancelled = sum([await _settle(session, row, CANCELLED, now) for row in rows])
    after_commit(session, partial(wake, task_id))
    return cancelled


# -- people's side ------------------------------------------------------------------------

async def get_approval(session: AsyncSession, *, user_id: int, approval_id: str,
                       any_user: bool = False) -> Approval:
    """The caller's approval; anyone else's (or none) is APPROVAL_NOT_FOUND."""
    row = await session.get(Approval, approval_id)
    if row is None or (row.user_id != user_id and not any_user):
        raise ApprovalNotFound(f"Approval {approval_id} not found")
    return row


async def list_approvals(session: AsyncSession, *, user_id: int | None, status: str | None,
                         page: Page) -> tuple[list[Approval], int]:
    """Newest first; `user_id=None`: everyone's (admins)."""
    query = select(Approval).order_by(Approval.requested_at.desc(), Approval.id.desc())
    if user_id is not None:
        query = query.where(Approval.user_id == user_id)
    if status:
        query = query.where(Approval.status == status)
    return await fetch_page(session, query, page)


async def pending_for_task(session: AsyncSession, *, task_id: str) -> list[Approval]:
    return list(await session.scalars(
        select(Approval).where(Approval.task_id == task_id, Approval.status == PENDING)
        .order_by(Approval.requested_at, Approval.id)))


async def decide(session: AsyncSession, *, user_id: int, approval_id: str,
                 body: ApprovalDecision) -> Approval:
    """Approve (optionally with edited arguments, checked against the tool's schema) or
    deny; a decided, expired or cancelled approval is a 409. The task resumes once this
    commits."""
    row = await get_approval(session, user_id=user_id, approval_id=approval_id)
    if row.status != PENDING:
        raise Conflict(f"Approval is already {row.status}", details={"status": row.status})
    now = utcnow()
    if row.expires_at <= now:
        raise Conflict("Approval has expired", details={"status": EXPIRED})
    if body.arguments is not None:
        if body.decision != "approve":
            raise ValidationFailed("arguments: only an approval can carry edited arguments")
        validate_parameters(row.parameters_schema, body.arguments)
    if not await _settle(session, row, APPROVED if body.decision == "approve" else DENIED,
                         now, decided_arguments=body.arguments, comment=body.comment):
        raise Conflict(f"Approval is already {row.status}", details={"status": row.status})
    after_commit(session, partial(wake, row.task_id))
    return row
