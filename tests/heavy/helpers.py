"""Helpers for heavy tests: start an orchestration, poll until it ends."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

TERMINAL = ("completed", "failed", "timeout", "cancelled")


async def orchestrate(client, user, body: dict[str, Any]) -> dict[str, Any]:
    resp = await client.post("/api/heavy/orchestrate", json=body, headers=user.headers)
    assert resp.status_code == 200, resp.text
    return resp.json()


async def progress(client, user, orch_id: str | None = None) -> dict[str, Any]:
    params = {"orchestration_id": orch_id} if orch_id else {}
    resp = await client.get("/api/heavy/progress", params=params, headers=user.headers)
    assert resp.status_code == 200, resp.text
    return resp.json()


async def wait_until(client, user, orch_id: str, predicate, within: float = 60.0
                     ) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        body = await progress(client, user, orch_id)
        if predicate(body):
            return body
        assert time.monotonic() < deadline, f"condition not reached: {body}"
        await asyncio.sleep(0.1)


async def wait_done(client, user, orch_id: str, within: float = 60.0) -> dict[str, Any]:
    return await wait_until(client, user, orch_id, lambda b: b["status"] in TERMINAL, within)


def ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def step_of(body: dict[str, Any], n: int) -> dict[str, Any]:
    return next(s for s in body["steps"] if s["step"] == n)


def result_of(body: dict[str, Any], n: int) -> Any:
    return next(r for r in body["results"] if r["step"] == n)["result"]
