"""The ASGI application served by uvicorn: socket.io mounted around the FastAPI app."""

from __future__ import annotations

import socketio

from crazy_gary.app import create_app
from crazy_gary.config import Settings
from crazy_gary.kit.security_headers import SecurityHeadersMiddleware
from crazy_gary.realtime.sockets import build_socket_server


def build_asgi(settings: Settings):
    """FastAPI for HTTP; /socket.io/ served by the socket.io server (JWT checked at connect
    and re-checked by the runtime's stream guard). socket.io's responses get the security
    headers here; the FastAPI app adds its own."""
    sio = build_socket_server(settings)
    app = create_app(settings, socket_servers=[sio])
    asgi = SecurityHeadersMiddleware(
        socketio.ASGIApp(sio, other_asgi_app=app, socketio_path="socket.io"),
        only_under="/socket.io")
    asgi.sio = sio
    asgi.fastapi_app = app
    return asgi
