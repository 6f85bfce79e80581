"""Socket.IO at /socket.io/: JWT or API key (with `tasks:read`) checked at connect and
again by the app's stream guard, one room per user, browser origins limited to the
service's own and CORS_ORIGINS."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import socketio

from crazy_gary import runtime
from crazy_gary.auth.api_keys import request_credential
from crazy_gary.auth.dependencies import user_from_token
from crazy_gary.auth.scopes import EVENTS_SCOPE
from crazy_gary.config import Settings
from crazy_gary.errors import AppError
from crazy_gary.observability.metrics import REALTIME_CLIENTS
from crazy_gary.realtime.fanout import user_room
from crazy_gary.realtime.revocation import Credential
from crazy_gary.realtime.sio_delivery import (
    FastEmitManager,
    FastSocketServer,
    RedisFastEmitManager,
)

log = logging.getLogger(__name__)


def token_from(environ: dict[str, Any], auth: Any) -> str | None:
    """The access token or API key from the `auth` payload (`token` or `api_key`), the query
    string, or an Authorization (or X-API-Key) header."""
    if isinstance(auth, dict):
        for name in ("token", "api_key"):
            if auth.get(name):
                return str(auth[name])
    query = parse_qs(str(environ.get("QUERY_STRING", "")))
    if query.get("token"):
        return query["token"][0]
    return request_credential(environ.get("HTTP_AUTHORIZATION"), environ.get("HTTP_X_API_KEY"))


def origin_check(settings: Settings) -> Callable[[str | None, dict[str, Any]], bool]:
    """Browsers may connect from the service's own origin and from CORS_ORIGINS only (a
    client without an Origin header is not a browser page and is let through)."""
    allowed = set(settings.cors_origin_list)

    def allow(origin: str | None, environ: dict[str, Any]) -> bool:
        if not origin or origin.rstrip("/") in allowed:
            return True
        # Same origin: the page came from this host (engine.io's own test, minus the
        # scheme it cannot see when uvicorn terminates TLS itself).
        host = urlsplit(origin).netloc
        return bool(host) and host in (environ.get("HTTP_HOST"),
                                       environ.get("HTTP_X_FORWARDED_HOST"))

    return allow


def build_socket_server(settings: Settings) -> socketio.AsyncServer:
    """The socket.io server; through Redis when REDIS_URL is set so any process can emit.

    Broadcasts are delivered by `sio_delivery` (one encode per event, no task per socket).
    Tokens are checked against the running runtime's database; each socket's token is
    re-checked by the runtime's stream guard, and a socket whose token fails is disconnected.
    """
    manager: socketio.AsyncManager
    if settings.redis_url:
        manager = RedisFastEmitManager(
            settings.redis_url, channel=f"{settings.redis_namespace}:socketio")
    else:
        manager = FastEmitManager()
    # Bearer tokens, never cookies: no credentialed CORS.
    sio = FastSocketServer(async_mode="asgi", client_manager=manager,
                           cors_allowed_origins=origin_check(settings), cors_credentials=False,
                           logger=False, engineio_logger=False)

    async def disconnect_revoked(sid: str) -> None:
        await sio.disconnect(sid, ignore_queue=True)  # this process holds the socket

    @sio.event
    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        token = token_from(environ, auth)
        if not token:
            raise socketio.exceptions.ConnectionRefusedError(
                "Authentication token missing", {"code": "AUTH_REQUIRED"})
        services = runtime.current()
        credential = Credential(services.database, settings, token, services.user_cache)
        try:
            user = await user_from_token(credential.database, settings, token,
                                         services.user_cache)
        except AppError as exc:
            raise socketio.exceptions.ConnectionRefusedError(
                exc.message, {"code": exc.code}) from None
        if not user.may(EVENTS_SCOPE):
            raise socketio.exceptions.ConnectionRefusedError(
                f"This API key lacks the '{EVENTS_SCOPE}' scope",
                {"code": "INSUFFICIENT_SCOPE", "required_scope": EVENTS_SCOPE})
        await sio.save_session(sid, {"user_id": user.id})
        await sio.enter_room(sid, user_room(user.id))
        services.stream_guard.watch(sid, credential, lambda: disconnect_revoked(sid))
        REALTIME_CLIENTS.labels(channel="socketio").inc()
        log.debug("socket %s connected for user %s", sid, user.id)

    @sio.event
    async def disconnect(sid: str, *args: Any) -> None:
        services = runtime.running()  # None once the process stopped its runtime
        if services is not None:
            services.stream_guard.forget(sid)
        REALTIME_CLIENTS.labels(channel="socketio").dec()

    return sio
