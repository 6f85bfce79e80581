"""Signed webhooks: subscriptions, their deliveries, redelivery and a test message."""

from __future__ import annotations

from typing import Any

from crazy_gary.client.core import Core
from crazy_gary.client.models import Page
from crazy_gary.webhooks.schemas import DeliveryRead, WebhookCreated, WebhookRead


class WebhooksArea:
    """The caller's webhooks (docs/webhooks.md); the secret is returned by `create` only."""

    def __init__(self, core: Core) -> None:
        self._core = core

    async def create(self, url: str, events: list[str], *,
                     description: str | None = None) -> WebhookCreated:
        body: dict[str, Any] = {"url": url, "events": events}
        if description is not None:
            body["description"] = description
        return await self._core.call("POST", "/api/webhooks", WebhookCreated, json=body)

    async def list(self, *, limit: int = 50, offset: int = 0) -> Page[WebhookRead]:
        return await self._core.page("/api/webhooks", WebhookRead, limit=limit, offset=offset)

    async def get(self, webhook_id: str) -> WebhookRead:
        return await self._core.call("GET", f"/api/webhooks/{webhook_id}", WebhookRead)

    async def update(self, webhook_id: str, **changes: Any) -> WebhookRead:
        """Change `url`, `events`, `description` or `enabled`."""
        return await self._core.call("PATCH", f"/api/webhooks/{webhook_id}", WebhookRead,
                                     json=changes)

    async def delete(self, webhook_id: str) -> None:
        await self._core.request("DELETE", f"/api/webhooks/{webhook_id}")

    async def deliveries(self, webhook_id: str, *, status: str | None = None,
                         limit: int = 50, offset: int = 0) -> Page[DeliveryRead]:
        return await self._core.page(f"/api/webhooks/{webhook_id}/deliveries", DeliveryRead,
                                     limit=limit, offset=offset, params={"status": status})

    async def redeliver(self, webhook_id: str, delivery_id: str) -> DeliveryRead:
        return await self._core.call(
            "POST", f"/api/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
            DeliveryRead)

    async def test(self, webhook_id: str) -> DeliveryRead:
        return await self._core.call("POST", f"/api/webhooks/{webhook_id}/test", DeliveryRead)
