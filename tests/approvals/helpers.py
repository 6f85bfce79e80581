"""Helpers of the approval tests: the effects MCP server, scripts, waiting on approvals."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from tests.support import REPO, subprocess_env

PLAN = {"content": "1. Use the tool\n2. Answer"}


def effects_entry(log_file: Path, approval: Any = None) -> dict[str, Any]:
    """An mcp.json entry for the effects server (with an `"approval"` key when given)."""
    env = subprocess_env({"EFFECTS_FILE": str(log_file)})
    entry: dict[str, Any] = {
        "command": sys.executable, "args": ["-m", "tests.fakes.effects_mcp"], "cwd": str(REPO),
        "env": {k: env[k] for k in ("PYTHONPATH", "EFFECTS_FILE", "PATH")}}
    if approval is not None:
        entry["approval"] = approval
    return entry


def effect_lines(log_file: Path) -> list[str]:
    return log_file.read_text().splitlines() if log_file.exists() else []


def call(tool: str, label: str, *, client: str = "effects", **extra: Any) -> dict[str, Any]:
    return {"name": f"{client}__{tool}", "arguments": {"label": label, **extra}}


def turn(*calls: dict[str, Any], content: str = "", **extra: Any) -> dict[str, Any]:
    return {"content": content, "tool_calls": list(calls), **extra}


async def wait_pending(client, user, task_id: str, count: int = 1,
                       within: float = 30.0) -> list[dict[str, Any]]:
    """The task's pending approvals once there are `count` of them (phase awaiting)."""
    deadline = time.monotonic() + within
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        resp = await client.get(f"/api/tasks/{task_id}", headers=user.headers)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        if len(body["pending_approvals"]) >= count and body["phase"] == "awaiting_approval":
            return body["pending_approvals"]
        assert body["status"] == "running", body
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {count} pending approvals: {body}")


def tool_messages(request: dict[str, Any]) -> list[str]:
    return [m["content"] for m in request["messages"] if m["role"] == "tool"]
