"""Webhook routes: a signed-in user's own subscriptions and their deliveries."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from crazy_gary.auth.dependencies import CurrentUser, SettingsDep
from crazy_gary.db import SessionDep
from crazy_gary.kit.openapi import error_responses
from crazy_gary.kit.pagination import PageDep, set_page_headers
from crazy_gary.webhooks import presenters, service
from crazy_gary.webhooks.schemas import (
    DeliveryRead,
    DeliveryState,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
    WebhookUpdate,
)

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"],
                   responses=error_responses(401, 429))


@router.post("", status_code=201, response_model=WebhookCreated,
             responses=error_responses(400, 403))
async def create_webhook(body: WebhookCreate, user: CurrentUser, session: SessionDep,
                         settings: SettingsDep) -> WebhookCreated:
    """Subscribe a URL to events; the signing secret is in this response only."""
    row = await service.create(session, user_id=user.id, is_admin=user.is_admin, url=body.url,
                               events=list(body.events), description=body.description,
                               allow_private=settings.webhook_allow_private_networks)
    return presenters.created(row)


@router.get("", response_model=list[WebhookRead])
async def list_webhooks(request: Request, response: Response, user: CurrentUser,
                        session: SessionDep, page: PageDep) -> list[WebhookRead]:
    """The caller's webhooks, newest first."""
    rows, total = await service.list_webhooks(session, user_id=user.id, page=page)
    set_page_headers(request, response, page, total)
    return [presenters.webhook(row) for row in rows]


@router.get("/{webhook_id}", response_model=WebhookRead, responses=error_responses(404))
async def get_webhook(webhook_id: str, user: CurrentUser, session: SessionDep) -> WebhookRead:
    return presenters.webhook(await service.get(session, user_id=user.id,
                                                webhook_id=webhook_id))


@router.patch("/{webhook_id}", response_model=WebhookRead,
              responses=error_responses(400, 403, 404))
async def update_webhook(webhook_id: str, body: WebhookUpdate, user: CurrentUser,
                         session: SessionDep, settings: SettingsDep) -> WebhookRead:
    """Change the URL, events, description; `enabled` turns it off or back on."""
    row = await service.update(session, user_id=user.id, is_admin=user.is_admin,
                               webhook_id=webhook_id, changes=body.model_dump(exclude_unset=True),
                               allow_private=settings.webhook_allow_private_networks)
    return presenters.webhook(row)


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=error_responses(404))
async def delete_webhook(webhook_id: str, user: CurrentUser, session: SessionDep) -> Response:
    """Delete the webhook and its deliveries; pending attempts stop."""
    await service.delete(session, user_id=user.id, webhook_id=webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{webhook_id}/deliveries", response_model=list[DeliveryRead],
            responses=error_responses(400, 404))
async def list_deliveries(request: Request, response: Response, webhook_id: str,
                          user: CurrentUser, session: SessionDep, page: PageDep,
                          status: DeliveryState | None = None) -> list[DeliveryRead]:
    """The webhook's deliveries, newest first: state, attempts, last answer, next attempt."""
    rows, total = await service.list_deliveries(session, user_id=user.id,
                                                webhook_id=webhook_id, status=status, page=page)
    set_page_headers(request, response, page, total)
    return [presenters.delivery(row) for row in rows]


@router.post("/{webhook_id}/deliveries/{delivery_id}/redeliver", status_code=202,
             response_model=DeliveryRead, responses=error_responses(404, 409))
async def redeliver(webhook_id: str, delivery_id: str, user: CurrentUser,
                    session: SessionDep) -> DeliveryRead:
    """Send a finished delivery again (same webhook-id and body, a fresh retry schedule)."""
    row = await service.redeliver(session, user_id=user.id, webhook_id=webhook_id,
                                  delivery_id=delivery_id)
    return presenters.delivery(row)


@router.post("/{webhook_id}/test", status_code=202, response_model=DeliveryRead,
             responses=error_responses(404, 409))
async def send_test(webhook_id: str, user: CurrentUser, session: SessionDep) -> DeliveryRead:
    """Send a `webhook.test` message through the normal delivery path."""
    row = await service.send_test(session, user_id=user.id, webhook_id=webhook_id)
    return presenters.delivery(row)
