"""Shared helpers of the task, agent and chat tests."""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from pathlib import Path

from sqlalchemy import select

from tests.support import REPO, subprocess_env

FINAL = ("completed", "failed", "stopped")


def tag(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def marker(script_tag: str) -> str:
    return f"[[script:{script_tag}]]"


async def create(client, user, *, title="A task", description="Do it", **extra) -> str:
    resp = await client.post("/api/tasks", headers=user.headers,
                             json={"title": title, "description": description, **extra})
    assert resp.status_code == 201, resp.text
    return resp.json()["task_id"]


async def run_task(client, user, script_tag: str, **extra) -> str:
    """Create and start a task driven by a stand-in script."""
    task_id = await create(client, user, title=f"Task {script_tag}",
                           description=f"Please work. {marker(script_tag)}", **extra)
    resp = await client.post(f"/api/tasks/{task_id}/start", headers=user.headers)
    assert resp.status_code == 200, resp.text
    return task_id


async def wait_for(client, user, task_id: str, statuses=FINAL, within: float = 30.0,
                   phase: str | None = None) -> dict:
    deadline = time.monotonic() + within
    body: dict = {}
    while time.monotonic() < deadline:
        resp = await client.get(f"/api/tasks/{task_id}", headers=user.headers)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        if body["status"] in statuses and (phase is None or body.get("phase") == phase):
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"task {task_id} never reached {statuses}/{phase}: {body}")


async def task_events(server, task_id: str, kind: str = "task_update") -> list[dict]:
    """Every event of one kind about a task from the event log, oldest first."""
    from crazy_gary.db import session_scope
    from crazy_gary.realtime.models import Event

    async def read():
        async with session_scope() as session:
            rows = await session.scalars(
                select(Event).where(Event.event == kind).order_by(Event.id))
            return [r.data for r in rows if r.data.get("task_id") == task_id]

    return await asyncio.wrap_future(
        asyncio.run_coroutine_threadsafe(read(), server.loop))


def counter_server_config(counter_file: Path, name: str = "counter"):
    from crazy_gary.toolhub.servers import ServerConfig

    env = subprocess_env({"COUNTER_FILE": str(counter_file)})
    return ServerConfig(name=name, command=sys.executable, args=("-m", "tests.fakes.counter_mcp"),
                        env={k: env[k] for k in ("PYTHONPATH", "COUNTER_FILE", "PATH")},
                        cwd=str(REPO))


def counter_lines(counter_file: Path) -> list[str]:
    return counter_file.read_text().splitlines() if counter_file.exists() else []


def add_counter_server(server, path: Path):
    """Plug the counter MCP server into the shared server's hub; returns the remover."""
    from crazy_gary.toolhub import get_hub

    hub = get_hub()
    server.run_coro(hub.add_server(counter_server_config(path)))
    deadline = time.monotonic() + 30
    while True:
        try:
            if any(t.name == "tally" for t in hub.list_tools(client="counter")):
                break
        except Exception:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.1)
    return lambda: server.run_coro(hub.remove_server("counter"))
