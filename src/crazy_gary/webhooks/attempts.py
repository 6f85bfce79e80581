"""What one delivery attempt reads and writes: the delivery's state after each attempt, and
the webhook disabled (its owner told) when a delivery ran out of retries with no success."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crazy_gary.db import session_scope, utcnow
from crazy_gary.kit.ids import new_id
from crazy_gary.monitoring.evaluation import alert_payload
from crazy_gary.monitoring.models import Alert
from crazy_gary.realtime import record
from crazy_gary.webhooks.models import DeliveryStatus, Webhook, WebhookDelivery
from crazy_gary.webhooks.sender import Attempt


@dataclass(frozen=True)
class Pending:
    """A delivery about to be attempted: what to send where."""

    url: str
    secret: str
    msg_id: str
    body: str


async def load(delivery_id: str, run: int) -> Pending | str:
    """The attempt to make, or why none is made: `gone` (deleted), `superseded` (a
    redelivery took over), `failed` (the webhook was disabled; the delivery is closed)."""
    async with session_scope() as session:
        delivery = await session.get(WebhookDelivery, delivery_id)
        if delivery is None:
            return "gone"
        if delivery.run != run:
            return "superseded"
        webhook = await session.get_one(Webhook, delivery.webhook_id)
        if not webhook.enabled:
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = None
            delivery.last_error = "the webhook is disabled"
            return "failed"
        return Pending(url=webhook.url, secret=webhook.secret, msg_id=delivery.id,
                       body=delivery.body)


async def save(delivery_id: str, run: int, attempt: Attempt, *,
               retry_in: float | None) -> str:
    """Record an attempt; `succeeded`, `retry` (next in `retry_in` seconds) or `failed`."""
    async with session_scope() as session:
        delivery = await session.get(WebhookDelivery, delivery_id, with_for_update=True)
        if delivery is None or delivery.run != run:
            return "gone"
        now = utcnow()
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.first_attempt_at = delivery.first_attempt_at or now
        delivery.last_response_code = attempt.status_code
        delivery.last_error = attempt.error
        webhook = await session.get_one(Webhook, delivery.webhook_id)
        if attempt.ok:
            delivery.status = DeliveryStatus.SUCCEEDED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
            webhook.last_success_at = now
            return "succeeded"
        if retry_in is not None:
            delivery.status = DeliveryStatus.RETRYING
            delivery.next_attempt_at = now + timedelta(seconds=retry_in)
            return "retry"
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
        since = delivery.first_attempt_at
        if webhook.enabled and (webhook.last_success_at is None
                                or webhook.last_success_at < since):
            disable(session, webhook, reason=(
                f"every delivery failed since {since.isoformat()}; last: {attempt.error}"))
        return "failed"


def disable(session: AsyncSession, webhook: Webhook, *, reason: str) -> None:
    """Turn the webhook off and tell its owner: a `webhook_disabled` event and an alert."""
    now = utcnow()
    webhook.enabled = False
    webhook.disabled_reason = reason
    webhook.updated_at = now
    record(session, "webhook_disabled",
           {"webhook_id": webhook.id, "url": webhook.url, "reason": reason},
           user_id=webhook.user_id)
    alert = Alert(id=new_id("alert"), rule=disabled_rule(webhook), type="webhook",
                  severity="warning", component="webhooks", status="active",
                  # no URL: alerts reach every admin, and a URL often holds a secret
                  message=f"Webhook {webhook.id} was disabled: {reason}",
                  acknowledged=False, created_at=now)
    session.add(alert)
    record(session, "system_alert", alert_payload(alert))


def disabled_rule(webhook: Webhook) -> str:
    return f"webhook_disabled:{webhook.id}"


async def resolve_disabled_alert(session: AsyncSession, webhook: Webhook) -> None:
    """The webhook was re-enabled or deleted: its `disabled` alert is resolved."""
    alerts = await session.scalars(select(Alert).where(Alert.rule == disabled_rule(webhook),
                                                       Alert.status == "active"))
    for alert in alerts:
        alert.status = "resolved"
        alert.resolved_at = utcnow()
        record(session, "alert_resolved", alert_payload(alert))
