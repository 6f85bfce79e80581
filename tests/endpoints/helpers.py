"""Polling helpers for lifecycle tests (no fixed sleeps)."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import select

from crazy_gary.db import session_scope
from crazy_gary.realtime.models import Event


async def wait_status(manager, key: str, wanted: str, within: float = 20.0) -> dict:
    deadline = time.monotonic() + within
    view = None
    while time.monotonic() < deadline:
        view = manager.view(await manager.refresh(key, max_age=0))
        if view["status"] == wanted:
            return view
        await asyncio.sleep(0.1)
    raise AssertionError(f"{key} never became {wanted}; last {view}")


async def events_named(name: str, since_id: int = 0) -> list[dict]:
    async with session_scope() as session:
        rows = (await session.execute(select(Event).where(
            Event.event == name, Event.id > since_id).order_by(Event.id))).scalars().all()
        return [r.data for r in rows]


async def last_event_id() -> int:
    async with session_scope() as session:
        rows = (await session.execute(select(Event.id).order_by(Event.id.desc()).limit(1)))
        return rows.scalar() or 0
