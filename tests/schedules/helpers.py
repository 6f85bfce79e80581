"""Shared helpers of the schedule tests."""

from __future__ import annotations

import asyncio
import time

from tests.tasks.helpers import marker

# (server URL, schedule id, headers) of every schedule the helpers created, deleted after
# each test (conftest.py)
CREATED: list[tuple[str, str, dict[str, str]]] = []


def template(script_tag: str, **extra) -> dict:
    return {"title": f"Scheduled {script_tag}",
            "description": f"Do the scheduled work. {marker(script_tag)}", **extra}


async def create_schedule(client, user, script_tag: str, cron: str = "*/2 * * * * *",
                          **extra) -> dict:
    body = {"name": f"every 2s {script_tag}", "cron": cron,
            "task": template(script_tag), **extra}
    resp = await client.post("/api/schedules", headers=user.headers, json=body)
    assert resp.status_code == 201, resp.text
    CREATED.append((str(client.base_url).rstrip("/"), resp.json()["id"], dict(user.headers)))
    return resp.json()


async def runs(client, user, schedule_id: str) -> list[dict]:
    resp = await client.get(f"/api/schedules/{schedule_id}/runs?limit=100", headers=user.headers)
    assert resp.status_code == 200, resp.text
    return list(reversed(resp.json()))  # oldest first


async def wait_runs(client, user, schedule_id: str, count: int, within: float = 30.0,
                    status: str | None = None) -> list[dict]:
    """The schedule's runs once at least `count` (of `status`, if given) were recorded."""
    deadline = time.monotonic() + within
    seen: list[dict] = []
    while time.monotonic() < deadline:
        seen = await runs(client, user, schedule_id)
        if len([r for r in seen if status is None or r["status"] == status]) >= count:
            return seen
        await asyncio.sleep(0.2)
    raise AssertionError(f"schedule {schedule_id}: fewer than {count} {status or ''} runs: "
                         f"{seen}")
