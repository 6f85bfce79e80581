"""Shared steps of the webhook tests."""

from __future__ import annotations

import asyncio
import time


async def create_webhook(client, user, url: str, events: list[str], **extra) -> dict:
    resp = await client.post("/api/webhooks", headers=user.headers,
                             json={"url": url, "events": events, **extra})
    assert resp.status_code == 201, resp.text
    return resp.json()


async def deliveries(client, user, webhook_id: str) -> list[dict]:
    resp = await client.get(f"/api/webhooks/{webhook_id}/deliveries", headers=user.headers)
    assert resp.status_code == 200, resp.text
    return resp.json()


async def wait_delivery(client, user, webhook_id: str, delivery_id: str, predicate,
                        within: float = 20.0) -> dict:
    """Poll the deliveries list until the delivery satisfies `predicate`."""
    deadline = time.monotonic() + within
    found: dict = {}
    while time.monotonic() < deadline:
        found = next((d for d in await deliveries(client, user, webhook_id)
                      if d["id"] == delivery_id), {})
        if found and predicate(found):
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"delivery {delivery_id} never matched: {found}")
