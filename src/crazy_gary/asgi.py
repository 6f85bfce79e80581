"""The ASGI application served by uvicorn: socket.io mounted around the FastAPI app."""

from __future__ import annotations

import socketio

from crazy_gary.app import create_app
from crazy_gary.config import Settings
from crazy_gary.kit.security_headers import SecurityHeadersMiddleware
from crazy_gary.realtime import fanout
from crazy_gary.realtime.sockets import build_socket_server


def build_asgi(settings: Settings, *, run_engine: bool = True):
    """FastAPI for HTTP; /socket.io/ served by the socket.io server (JWT checked at connect
    and re-checked by the app's stream guard). socket.io's responses get the security
    headers here; the FastAPI app adds its own."""
    app = create_app(settings, run_engine=run_engine)
    sio = build_socket_server(settings, app.state.stream_guard, app.state.user_cache,
                              database=lambda: app.state.database)
    fanout.configure(settings).add_socket_server(sio)  # the one create_app just configured
    asgi = SecurityHeadersMiddleware(
        socketio.ASGIApp(sio, other_asgi_app=app, socketio_path="socket.io"),
        only_under="/socket.io")
    asgi.sio = sio
    asgi.fastapi_app = app
    return asgi
