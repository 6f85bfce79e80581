"""Webhook API bodies."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, Field

from crazy_gary.kit.bodies import RequestBody

# The events a webhook may subscribe to (realtime.external.WEBHOOK_EVENT_TYPES); the
# alert and endpoint events are for administrators' webhooks only.
WebhookEvent = Literal[
    "task.completed", "task.failed", "task.stopped", "approval.requested",
    "orchestration.completed", "orchestration.failed",
    "alert.fired", "alert.resolved", "endpoint.status_changed",
]
EVENT_COUNT = len(get_args(WebhookEvent))
DeliveryState = Literal["queued", "retrying", "succeeded", "failed"]

URL = Field(min_length=1, max_length=2048, description="http(s) URL that receives the events")
EVENTS = Field(min_length=1, max_length=EVENT_COUNT,
               description="Event types to receive")


class WebhookCreate(RequestBody):
    url: str = URL
    events: list[WebhookEvent] = EVENTS
    description: str | None = Field(default=None, max_length=500)


class WebhookUpdate(RequestBody):
    url: str | None = Field(default=None, min_length=1, max_length=2048)
    events: list[WebhookEvent] | None = Field(default=None, min_length=1,
                                              max_length=EVENT_COUNT)
    description: str | None = Field(default=None, max_length=500)
    enabled: bool | None = Field(default=None, description="true re-enables a disabled webhook")


class WebhookRead(BaseModel):
    id: str
    url: str
    events: list[str]
    description: str | None
    enabled: bool
    disabled_reason: str | None
    created_at: str
    updated_at: str
    last_success_at: str | None


class WebhookCreated(WebhookRead):
    secret: str = Field(description="whsec_ signing secret; shown only in this response")


class DeliveryRead(BaseModel):
    id: str = Field(description="The webhook-id header of every attempt")
    webhook_id: str
    event: str
    status: DeliveryState
    attempts: int
    last_response_code: int | None
    last_error: str | None
    next_attempt_at: str | None
    last_attempt_at: str | None
    delivered_at: str | None
    created_at: str
