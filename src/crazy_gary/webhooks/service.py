"""Webhook subscriptions of a user: create, read, change, delete; their deliveries,
redelivery and a test message. Another user's webhook is not found."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crazy_gary.errors import Conflict, InsufficientPermissions, NotFound, ValidationFailed
from crazy_gary.kit.clock import iso, utcnow
from crazy_gary.kit.ids import new_id
from crazy_gary.kit.pagination import Page, fetch_page
from crazy_gary.kit.unit_of_work import after_commit
from crazy_gary.realtime.external import ADMIN_EVENT_TYPES
from crazy_gary.webhooks import signing, workflows
from crazy_gary.webhooks.addresses import UnsafeURL, check
from crazy_gary.webhooks.attempts import resolve_disabled_alert
from crazy_gary.webhooks.dispatch import message_body
from crazy_gary.webhooks.models import IN_PROGRESS, DeliveryStatus, Webhook, WebhookDelivery

TEST_EVENT = "webhook.test"


async def checked_url(url: str, *, allow_private: bool) -> str:
    """The URL if a webhook may call it; else a 400 saying why."""
    try:
        await check(url, allow_private=allow_private)
    except UnsafeURL as exc:
        raise ValidationFailed([f"url: {exc}"], message="The webhook URL is not allowed") from None
    return url


def _check_events(events: list[str], *, is_admin: bool) -> list[str]:
    admin_only = sorted(set(events) & ADMIN_EVENT_TYPES)
    if admin_only and not is_admin:
        raise InsufficientPermissions(
            f"Only administrators' webhooks may receive {', '.join(admin_only)}",
            details={"events": admin_only})
    return list(dict.fromkeys(events))  # duplicates dropped, order kept


async def create(session: AsyncSession, *, user_id: int, is_admin: bool, url: str,
                 events: list[str], description: str | None, allow_private: bool) -> Webhook:
    events = _check_events(events, is_admin=is_admin)
    url = await checked_url(url, allow_private=allow_private)
    now = utcnow()
    row = Webhook(id=new_id("wh"), user_id=user_id, url=url, events=events,
                  secret=signing.new_secret(), description=description, enabled=True,
                  created_at=now, updated_at=now)
    session.add(row)
    await session.flush()
    return row


async def get(session: AsyncSession, *, user_id: int, webhook_id: str) -> Webhook:
    row = await session.get(Webhook, webhook_id)
    if row is None or row.user_id != user_id:
        raise NotFound("Webhook not found")
    return row


async def list_webhooks(session: AsyncSession, *, user_id: int, page: Page
                        ) -> tuple[list[Webhook], int]:
    query = (select(Webhook).where(Webhook.user_id == user_id)
             .order_by(Webhook.created_at.desc(), Webhook.id))
    return await fetch_page(session, query, page)


async def update(session: AsyncSession, *, user_id: int, is_admin: bool, webhook_id: str,
                 changes: dict[str, Any], allow_private: bool) -> Webhook:
    """Apply the fields given; `enabled: true` also clears why it was disabled."""
    row = await get(session, user_id=user_id, webhook_id=webhook_id)
    if changes.get("url") is not None:
        row.url = await checked_url(changes["url"], allow_private=allow_private)
    if changes.get("events") is not None:
        row.events = _check_events(changes["events"], is_admin=is_admin)
    if "description" in changes:
        row.description = changes["description"]
    if changes.get("enabled") is not None:
        if changes["enabled"] and not row.enabled:
            row.disabled_reason = None
            await resolve_disabled_alert(session, row)
        row.enabled = changes["enabled"]
    row.updated_at = utcnow()
    await session.flush()
    return row


async def delete(session: AsyncSession, *, user_id: int, webhook_id: str) -> None:
    """The webhook and its deliveries; running deliveries find it gone and stop."""
    row = await get(session, user_id=user_id, webhook_id=webhook_id)
    await resolve_disabled_alert(session, row)
    await session.delete(row)
    await session.flush()


async def list_deliveries(session: AsyncSession, *, user_id: int, webhook_id: str,
                          status: str | None, page: Page) -> tuple[list[WebhookDelivery], int]:
    await get(session, user_id=user_id, webhook_id=webhook_id)
    query = (select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
             .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id))
    if status:
        query = query.where(WebhookDelivery.status == status)
    return await fetch_page(session, query, page)


def _start_after_commit(session: AsyncSession, delivery: WebhookDelivery) -> None:
    delivery_id, run = delivery.id, delivery.run

    async def start() -> None:
        await workflows.start(delivery_id, run)

    after_commit(session, start)


def _require_enabled(webhook: Webhook) -> None:
    if not webhook.enabled:
        raise Conflict("The webhook is disabled; enable it first (PATCH enabled: true)",
                       details={"disabled_reason": webhook.disabled_reason})


async def redeliver(session: AsyncSession, *, user_id: int, webhook_id: str,
                    delivery_id: str) -> WebhookDelivery:
    """Send a finished delivery again: same message id and body, a fresh retry schedule."""
    webhook = await get(session, user_id=user_id, webhook_id=webhook_id)
    delivery = await session.get(WebhookDelivery, delivery_id, with_for_update=True)
    if delivery is None or delivery.webhook_id != webhook.id:
        raise NotFound("Delivery not found")
    _require_enabled(webhook)
    if delivery.status in IN_PROGRESS:
        raise Conflict("The delivery is still being attempted",
                       details={"status": delivery.status})
    delivery.run += 1
    delivery.status = DeliveryStatus.QUEUED
    delivery.next_attempt_at = utcnow()
    delivery.delivered_at = None
    await session.flush()
    _start_after_commit(session, delivery)
    return delivery


async def send_test(session: AsyncSession, *, user_id: int, webhook_id: str) -> WebhookDelivery:
    """A `webhook.test` message through the same delivery path as real events."""
    webhook = await get(session, user_id=user_id, webhook_id=webhook_id)
    _require_enabled(webhook)
    now = utcnow()
    data = {"webhook_id": webhook.id, "message": "This is a test event from Crazy Gary."}
    delivery = WebhookDelivery(
        id=new_id("msg"), webhook_id=webhook.id, event=TEST_EVENT,
        body=message_body(TEST_EVENT, data, timestamp=iso(now)), status=DeliveryStatus.QUEUED,
        attempts=0, run=0, created_at=now, next_attempt_at=now)
    session.add(delivery)
    await session.flush()
    _start_after_commit(session, delivery)
    return delivery
