"""Schedules a test leaves behind (one that failed half-way included) are deleted after it,
so no every-2-seconds schedule keeps starting tasks on the shared server."""

from __future__ import annotations

import pytest_asyncio


@pytest_asyncio.fixture(loop_scope="session", autouse=True)
async def no_schedule_left(request):
    yield
    if "user" not in request.fixturenames:
        return
    client, user = request.getfixturevalue("client"), request.getfixturevalue("user")
    listed = await client.get("/api/schedules?limit=100", headers=user.headers)
    for schedule in listed.json() if listed.status_code == 200 else []:
        await client.delete(f"/api/schedules/{schedule['id']}", headers=user.headers)
