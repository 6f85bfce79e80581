"""Fixtures for the tool hub tests: the shared hub, helpers to add servers to it."""

from __future__ import annotations

import asyncio
import uuid

import pytest_asyncio

from crazy_gary.toolhub import get_hub
from crazy_gary.toolhub.servers import parse_server


async def wait_until(predicate, seconds: float = 30.0, interval: float = 0.05):
    """Poll `predicate` (sync or async) until truthy; returns its value."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(interval)


async def wait_connected(client, headers, name: str, seconds: float = 30.0) -> dict:
    """Poll /api/mcp/status until the client is connected."""

    async def check():
        resp = await client.get("/api/mcp/status", headers=headers)
        info = resp.json()["clients"].get(name)
        return info if info and info["status"] == "connected" else None

    return await wait_until(check, seconds, 0.1)


@pytest_asyncio.fixture(loop_scope="session")
async def add_server(server):
    """Add MCP servers to the shared server's hub for one test; removed afterwards."""
    added: list[str] = []

    def add(raw: dict, prefix: str = "fake") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:6]}"
        server.run_coro(get_hub().add_server(parse_server(name, raw)))
        added.append(name)
        return name

    yield add
    for name in added:
        try:
            server.run_coro(get_hub().remove_server(name))
        except Exception:
            pass
