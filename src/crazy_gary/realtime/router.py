"""Server-Sent Events at /api/observability/events/stream."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.types import Send

from crazy_gary import runtime
from crazy_gary.auth.dependencies import (
    SettingsDep,
    authorize_key,
    credential_of,
    user_cache_of,
    user_from_token,
)
from crazy_gary.db import request_database, session_scope
from crazy_gary.errors import AuthRequired
from crazy_gary.kit.openapi import error_responses
from crazy_gary.kit.sse import PING, SSEResponse, frame
from crazy_gary.observability.metrics import REALTIME_CLIENTS
from crazy_gary.realtime.broker import LocalBroker, Subscription
from crazy_gary.realtime.revocation import Credential, StreamGuard
from crazy_gary.realtime.service import events_after

router = APIRouter(prefix="/api/observability", tags=["observability"])

REPLAY_BATCH = 500
# Sent when the process drains: reconnect (to another process) soon, replaying from the
# last event id, instead of seeing the connection reset.
RECONNECT = b"retry: 1000\n" + frame({"reason": "server_draining"}, event="reconnect")
NO_URL_TOKENS = ("Send the access token in the Authorization header "
                 "(tokens in the URL are not accepted)")


def _parse_last_id(value: str | None) -> int | None:
    if value and value.strip().isdigit():
        return int(value.strip())
    return None


class EventStreamResponse(SSEResponse):
    """One subscriber's stream, fed from its broker subscription.

    Per event it costs one wake-up of this request's task and one `send` of the frames that
    are pending (several queued events go out as one chunk). A disconnect closes the
    subscription, which ends the loop; so does the app's `StreamGuard` once the stream's
    credential fails.
    """

    def __init__(self, user_id: int, after: int | None, heartbeat: float,
                 guard: StreamGuard, credential: Credential, broker: LocalBroker) -> None:
        super().__init__(preamble=b"retry: 3000\n: connected\n\n")
        self.user_id = user_id
        self.broker = broker
        self.after = after
        self.heartbeat = heartbeat
        self.guard = guard
        self.credential = credential
        self.sub: Subscription

    def opened(self) -> None:
        # Subscribe before reading the log so nothing published in between is lost.
        self.sub = self.broker.subscribe(self.user_id)
        self.guard.watch(self.sub, self.credential, self.sub.close)
        REALTIME_CLIENTS.labels(channel="sse").inc()

    def disconnected(self) -> None:
        self.sub.close()

    async def closed(self) -> None:
        self.guard.forget(self.sub)
        self.broker.unsubscribe(self.sub)
        REALTIME_CLIENTS.labels(channel="sse").dec()

    async def stream(self, send: Send) -> None:
        sub = self.sub
        sent = await self._replay(send, sub, self.after) if self.after is not None else set()
        while not sub.closed and not sub.overflowed:
            batch = await sub.next_batch(self.heartbeat)
            if sub.closed or sub.overflowed:
                break
            if not batch:
                chunk = PING
            elif sent:
                chunk = b"".join(e.sse_frame for e in batch if e.id not in sent)
                sent.difference_update(e.id for e in batch)
            else:
                chunk = b"".join(e.sse_frame for e in batch)
            if chunk:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        # Overflowed (too slow to keep up): the stream ends; the client reconnects with
        # Last-Event-ID and replays. Disconnected: the server drops the closing message.
        if sub.parting:  # the process drains: a `reconnect` event, then the stream ends
            await send({"type": "http.response.body", "body": RECONNECT, "more_body": True})

    async def _replay(self, send: Send, sub: Subscription, after: int) -> set[int]:
        """Send the logged events after `after`; their ids, to drop their live copies."""
        sent: set[int] = set()
        while not sub.closed:
            async with session_scope() as session:
                missed = await events_after(session, user_id=self.user_id, after_id=after,
                                            limit=REPLAY_BATCH)
            if missed:
                sent.update(e.id for e in missed)
                await send({"type": "http.response.body", "more_body": True,
                            "body": b"".join(e.sse_frame for e in missed)})
            if len(missed) < REPLAY_BATCH:
                break
            after = missed[-1].id
        return sent


@router.get(
    "/events/stream",
    response_class=StreamingResponse,  # documentation only (keeps the published schema)
    responses={200: {"content": {"text/event-stream": {}},
                     "description": 'Frames `id: <n>` + `data: {"event", "data"}`'},
               **error_responses(401, 429)},
)
async def stream_events(
    request: Request,
    settings: SettingsDep,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    last_event_id_query: Annotated[int | None, Query(alias="last_event_id", ge=0)] = None,
) -> EventStreamResponse:
    """Your events and system events, live; `Last-Event-ID` replays what you missed.

    The access token (or an API key with `tasks:read`) goes in the Authorization header, or
    the key in X-API-Key (a token in the URL would end up in access logs and browser
    history). The stream ends when the token stops being valid or the key is deleted."""
    raw = credential_of(request)
    if not raw:
        raise AuthRequired(NO_URL_TOKENS if "token" in request.query_params else None)
    credential = Credential(request_database(request), settings, raw, user_cache_of(request))
    user = await user_from_token(credential.database, settings, raw, credential.cache)
    authorize_key(request, user)
    after = _parse_last_id(last_event_id)
    if after is None:
        after = last_event_id_query
    services = runtime.of(request)
    return EventStreamResponse(user.id, after, settings.sse_heartbeat_seconds,
                               services.stream_guard, credential, services.fanout.broker)
