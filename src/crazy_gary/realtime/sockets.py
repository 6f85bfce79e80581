"""Socket.IO at /socket.io/: JWT checked at connect, one room per user."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qs

import socketio

from crazy_gary.auth.dependencies import user_from_token
from crazy_gary.auth.tokens import bearer_token
from crazy_gary.config import Settings
from crazy_gary.db import get_database
from crazy_gary.errors import AppError
from crazy_gary.observability.metrics import REALTIME_CLIENTS
from crazy_gary.realtime.fanout import user_room
from crazy_gary.realtime.sio_delivery import (
    FastEmitManager,
    FastSocketServer,
    RedisFastEmitManager,
)

log = logging.getLogger(__name__)


def token_from(environ: dict[str, Any], auth: Any) -> str | None:
    """The access token from the `auth` payload, the query string, or an Authorization header."""
    if isinstance(auth, dict) and auth.get("token"):
        return str(auth["token"])
    query = parse_qs(environ.get("QUERY_STRING", ""))
    if query.get("token"):
        return query["token"][0]
    return bearer_token(environ.get("HTTP_AUTHORIZATION"))


def build_socket_server(settings: Settings) -> socketio.AsyncServer:
    """The socket.io server; through Redis when REDIS_URL is set so any process can emit.

    Broadcasts are delivered by `sio_delivery` (one encode per event, no task per socket).
    """
    manager: socketio.AsyncManager
    if settings.redis_url:
        manager = RedisFastEmitManager(
            settings.redis_url, channel=f"{settings.redis_namespace}:socketio")
    else:
        manager = FastEmitManager()
    sio = FastSocketServer(async_mode="asgi", client_manager=manager,
                           cors_allowed_origins="*", logger=False, engineio_logger=False)

    @sio.event
    async def connect(sid: str, environ: dict[str, Any], auth: Any = None):
        token = token_from(environ, auth)
        if not token:
            raise socketio.exceptions.ConnectionRefusedError(
                "Authentication token missing", {"code": "AUTH_REQUIRED"})
        try:
            user = await user_from_token(get_database(), settings, token)
        except AppError as exc:
            raise socketio.exceptions.ConnectionRefusedError(
                exc.message, {"code": exc.code}) from None
        await sio.save_session(sid, {"user_id": user.id})
        await sio.enter_room(sid, user_room(user.id))
        REALTIME_CLIENTS.labels(channel="socketio").inc()
        log.debug("socket %s connected for user %s", sid, user.id)

    @sio.event
    async def disconnect(sid: str, *args: Any):
        REALTIME_CLIENTS.labels(channel="socketio").dec()

    return sio
