"""Server-Sent Events at /api/observability/events/stream."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from crazy_gary.auth.dependencies import SettingsDep, user_cache_of, user_from_token
from crazy_gary.auth.tokens import bearer_token
from crazy_gary.db import request_database, session_scope
from crazy_gary.errors import AuthRequired
from crazy_gary.kit.openapi import error_responses
from crazy_gary.observability.metrics import REALTIME_CLIENTS
from crazy_gary.realtime.broker import Subscription, broker
from crazy_gary.realtime.revocation import Credential, StreamGuard
from crazy_gary.realtime.service import events_after

router = APIRouter(prefix="/api/observability", tags=["observability"])

REPLAY_BATCH = 500
NO_URL_TOKENS = ("Send the access token in the Authorization header "
                 "(tokens in the URL are not accepted)")


def _parse_last_id(value: str | None) -> int | None:
    if value and value.strip().isdigit():
        return int(value.strip())
    return None


class EventStreamResponse(Response):
    """One subscriber's stream, written straight to ASGI `send`.

    Per event it costs one wake-up of this request's task and one `send` of the frames that
    are pending (several queued events go out as one chunk); StreamingResponse would add an
    async generator hop and a second task per stream. A small task watches `receive` for
    the client's disconnect and closes the subscription, which ends the loop; so does the
    app's `StreamGuard` once the stream's credential fails.
    """

    media_type = "text/event-stream"

    def __init__(self, user_id: int, after: int | None, heartbeat: float,
                 guard: StreamGuard, credential: Credential) -> None:
        self.user_id = user_id
        self.after = after
        self.heartbeat = heartbeat
        self.guard = guard
        self.credential = credential
        self.status_code = 200
        self.background = None
        self.init_headers({"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Subscribe before reading the log so nothing published in between is lost.
        sub = broker.subscribe(self.user_id)
        self.guard.watch(sub, self.credential, sub.close)
        REALTIME_CLIENTS.labels(channel="sse").inc()
        watcher = asyncio.ensure_future(_close_on_disconnect(receive, sub))
        try:
            await send({"type": "http.response.start", "status": 200,
                        "headers": self.raw_headers})
            await send({"type": "http.response.body", "body": b"retry: 3000\n: connected\n\n",
                        "more_body": True})
            sent = await self._replay(send, sub, self.after) if self.after is not None else set()
            while not sub.closed and not sub.overflowed:
                batch = await sub.next_batch(self.heartbeat)
                if sub.closed or sub.overflowed:
                    break
                if not batch:
                    chunk = b": ping\n\n"
                elif sent:
                    chunk = b"".join(e.sse_frame for e in batch if e.id not in sent)
                    sent.difference_update(e.id for e in batch)
                else:
                    chunk = b"".join(e.sse_frame for e in batch)
                if chunk:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            # Overflowed (too slow to keep up): end the stream; the client reconnects with
            # Last-Event-ID and replays. Disconnected: the server drops this message.
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:  # servers on ASGI spec 2.4 report a gone client this way
            pass
        finally:
            watcher.cancel()
            self.guard.forget(sub)
            broker.unsubscribe(sub)
            REALTIME_CLIENTS.labels(channel="sse").dec()

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


async def _close_on_disconnect(receive: Receive, sub: Subscription) -> None:
    try:
        while (await receive())["type"] != "http.disconnect":
            pass
    finally:
        sub.close()


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
):
    """Your events and system events, live; `Last-Event-ID` replays what you missed.

    The access token goes in the Authorization header (a token in the URL would end up in
    access logs and browser history). The stream ends when the token stops being valid."""
    raw = bearer_token(request.headers.get("authorization"))
    if not raw:
        raise AuthRequired(NO_URL_TOKENS if "token" in request.query_params else None)
    credential = Credential(request_database(request), settings, raw, user_cache_of(request))
    user = await user_from_token(credential.database, settings, raw, credential.cache)
    after = _parse_last_id(last_event_id)
    if after is None:
        after = last_event_id_query
    return EventStreamResponse(user.id, after, settings.sse_heartbeat_seconds,
                               request.app.state.stream_guard, credential)
