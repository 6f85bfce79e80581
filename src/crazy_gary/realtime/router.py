"""Server-Sent Events at /api/observability/events/stream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from crazy_gary.auth.dependencies import SettingsDep, user_from_token
from crazy_gary.auth.tokens import bearer_token
from crazy_gary.db import SessionDep, session_scope
from crazy_gary.errors import AuthRequired
from crazy_gary.kit.openapi import error_responses
from crazy_gary.observability.metrics import REALTIME_CLIENTS
from crazy_gary.realtime.broker import broker
from crazy_gary.realtime.service import events_after

router = APIRouter(prefix="/api/observability", tags=["observability"])

REPLAY_BATCH = 500


@router.get(
    "/events/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}},
                     "description": 'Frames `id: <n>` + `data: {"event", "data"}`'},
               **error_responses(401, 429)},
)
async def stream_events(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Query(description="Access token (EventSource cannot send "
                                                    "headers)")] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    last_event_id_query: Annotated[int | None, Query(alias="last_event_id", ge=0)] = None,
):
    """Your events and system events, live; `Last-Event-ID` replays what you missed."""
    raw = bearer_token(request.headers.get("authorization")) or token
    if not raw:
        raise AuthRequired()
    user = await user_from_token(session, settings, raw)
    after = _parse_last_id(last_event_id)
    if after is None:
        after = last_event_id_query
    return StreamingResponse(
        _stream(user.id, after, settings.sse_heartbeat_seconds),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _parse_last_id(value: str | None) -> int | None:
    if value and value.strip().isdigit():
        return int(value.strip())
    return None


async def _stream(user_id: int, after: int | None, heartbeat: float) -> AsyncIterator[bytes]:
    # Subscribe before reading the log so nothing published in between is lost.
    sub = broker.subscribe(user_id)
    REALTIME_CLIENTS.labels(channel="sse").inc()
    try:
        yield b"retry: 3000\n: connected\n\n"
        sent: set[int] = set()
        if after is not None:
            while True:
                async with session_scope() as session:
                    missed = await events_after(session, user_id=user_id, after_id=after,
                                                limit=REPLAY_BATCH)
                for event in missed:
                    sent.add(event.id)
                    yield event.sse_frame
                if len(missed) < REPLAY_BATCH:
                    break
                after = missed[-1].id
        while not sub.overflowed:
            batch = await sub.next_batch(heartbeat)
            if not batch and not sub.overflowed:
                yield b": ping\n\n"
                continue
            chunk = b"".join(e.sse_frame for e in batch if e.id not in sent)
            if sent:
                sent.difference_update(e.id for e in batch)
            if chunk:
                yield chunk
        # Too slow to keep up: end the stream; the client reconnects with Last-Event-ID.
    finally:
        broker.unsubscribe(sub)
        REALTIME_CLIENTS.labels(channel="sse").dec()
