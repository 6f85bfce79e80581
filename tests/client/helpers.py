"""Helpers of the client tests: a signed-in client and the event log as the server keeps it."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from crazy_gary.client import AsyncClient


async def signed_in(server, user) -> AsyncClient:
    client = AsyncClient(server.url, timeout=30)
    await client.auth.login(user.email, user.password)
    return client


async def logged_event_ids(server, task_id: str) -> list[int]:
    """Ids of every event about `task_id` in the server's event log, in order."""
    from crazy_gary.db import session_scope
    from crazy_gary.realtime.models import Event

    async def read() -> list[int]:
        async with session_scope() as session:
            rows = await session.scalars(select(Event).order_by(Event.id))
            return [r.id for r in rows if (r.data or {}).get("task_id") == task_id]

    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(read(), server.loop))
