"""Incidents: opened by people, moved through investigating to resolved, with a timeline."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crazy_gary.errors import NotFound
from crazy_gary.kit.clock import iso, utcnow
from crazy_gary.kit.ids import new_id
from crazy_gary.kit.pagination import Page, fetch_page
from crazy_gary.monitoring import presenters
from crazy_gary.monitoring.models import Incident
from crazy_gary.realtime import record

STATUSES = ("open", "investigating", "resolved")


def _entry(status: str, by: str, note: str | None, **extra: Any) -> dict[str, Any]:
    return {"timestamp": iso(utcnow()), "status": status, "by": by, "note": note, **extra}


async def create(session: AsyncSession, *, title: str, description: str, severity: str,
                 created_by: int, by: str) -> Incident:
    now = utcnow()
    incident = Incident(id=new_id("inc"), title=title, description=description,
                        severity=severity, status="open", created_by=created_by,
                        timeline=[_entry("open", by, "Incident opened")],
                        created_at=now, updated_at=now)
    session.add(incident)
    await session.flush()
    _announce(session, "incident_created", incident)
    return incident


def _announce(session: AsyncSession, event: str, incident: Incident) -> None:
    """Every signed-in user hears of it (without the timeline), once the change commits."""
    record(session, event,
           presenters.incident(incident, full=False).model_dump(exclude={"timeline"}))


async def list_incidents(session: AsyncSession, *, status: str | None, severity: str | None,
                         page: Page) -> tuple[list[Incident], int]:
    query = select(Incident).order_by(Incident.created_at.desc())
    if status:
        query = query.where(Incident.status == status)
    if severity:
        query = query.where(Incident.severity == severity)
    return await fetch_page(session, query, page)


async def get(session: AsyncSession, *, incident_id: str) -> Incident:
    incident = await session.get(Incident, incident_id)
    if incident is None:
        raise NotFound("Incident not found")
    return incident


async def update(session: AsyncSession, *, incident_id: str, by: str, status: str | None,
                 assignee: str | None, severity: str | None, note: str | None) -> Incident:
    """Move an incident forward; every change is written to its timeline."""
    incident = await get(session, incident_id=incident_id)
    changes: dict[str, Any] = {}
    if assignee is not None and assignee != incident.assignee:
        changes["assignee"] = assignee
        incident.assignee = assignee
    if severity is not None and severity != incident.severity:
        changes["severity"] = severity
        incident.severity = severity
    new_status = status or incident.status
    if new_status != incident.status:
        changes["from_status"] = incident.status
        incident.status = new_status
        incident.resolved_at = utcnow() if new_status == "resolved" else None
    if changes or note:
        incident.timeline = [*incident.timeline, _entry(new_status, by, note, **changes)]
        incident.updated_at = utcnow()
    _announce(session, "incident_updated", incident)
    return incident


async def open_incidents(session: AsyncSession, *, limit: int = 20) -> list[Incident]:
    rows = await session.scalars(
        select(Incident).where(Incident.status != "resolved")
        .order_by(Incident.created_at.desc()).limit(limit))
    return list(rows)
