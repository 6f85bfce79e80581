"""Alerts: raised once while a rule fires, resolved when it clears, acknowledged by people."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crazy_gary.errors import NotFound
from crazy_gary.kit.clock import utcnow
from crazy_gary.kit.ids import new_id
from crazy_gary.kit.pagination import Page, fetch_page
from crazy_gary.monitoring.models import Alert
from crazy_gary.monitoring.rules import Verdict


async def apply_verdicts(
    session: AsyncSession, verdicts: list[Verdict]
) -> tuple[list[Alert], list[Alert]]:
    """Open an alert for each newly firing rule, resolve those that cleared.

    Returns (raised, resolved). Rules without a verdict (too little data) keep their state.
    """
    active = {a.rule: a for a in await session.scalars(
        select(Alert).where(Alert.status == "active"))}
    raised, resolved = [], []
    now = utcnow()
    for verdict in verdicts:
        current = active.get(verdict.rule)
        if verdict.firing and current is None:
            alert = Alert(id=new_id("alert"), rule=verdict.rule, type=verdict.type,
                          severity=verdict.severity, message=verdict.message,
                          component=verdict.component, status="active", value=verdict.value,
                          acknowledged=False, created_at=now)
            session.add(alert)
            raised.append(alert)
        elif not verdict.firing and current is not None:
            current.status = "resolved"
            current.resolved_at = now
            resolved.append(current)
        elif verdict.firing and current is not None:
            current.value = verdict.value
    await session.flush()
    return raised, resolved


async def list_alerts(
    session: AsyncSession, *, status: str | None, page: Page
) -> tuple[list[Alert], int]:
    """Newest first; `status` None or "all" for every alert."""
    query = select(Alert).order_by(Alert.created_at.desc())
    if status and status != "all":
        query = query.where(Alert.status == status)
    return await fetch_page(session, query, page)


async def acknowledge(session: AsyncSession, *, alert_id: str, by: str) -> Alert:
    alert = await session.get(Alert, alert_id)
    if alert is None:
        raise NotFound("Alert not found")
    if not alert.acknowledged:
        alert.acknowledged = True
        alert.acknowledged_by = by
        alert.acknowledged_at = utcnow()
    return alert
