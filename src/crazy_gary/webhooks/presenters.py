"""Rows to API bodies."""

from __future__ import annotations

from crazy_gary.kit.clock import iso
from crazy_gary.webhooks.models import Webhook, WebhookDelivery
from crazy_gary.webhooks.schemas import DeliveryRead, WebhookCreated, WebhookRead


def webhook(row: Webhook) -> WebhookRead:
    return WebhookRead(id=row.id, url=row.url, events=list(row.events),
                       description=row.description, enabled=row.enabled,
                       disabled_reason=row.disabled_reason, created_at=iso(row.created_at),
                       updated_at=iso(row.updated_at), last_success_at=iso(row.last_success_at))


def created(row: Webhook) -> WebhookCreated:
    return WebhookCreated(**webhook(row).model_dump(), secret=row.secret)


def delivery(row: WebhookDelivery) -> DeliveryRead:
    return DeliveryRead.model_validate(dict(
        id=row.id, webhook_id=row.webhook_id, event=row.event, status=row.status,
        attempts=row.attempts, last_response_code=row.last_response_code,
        last_error=row.last_error, next_attempt_at=iso(row.next_attempt_at),
        last_attempt_at=iso(row.last_attempt_at), delivered_at=iso(row.delivered_at),
        created_at=iso(row.created_at)))
