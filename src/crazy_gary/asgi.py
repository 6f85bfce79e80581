"""The ASGI application served by uvicorn: socket.io mounted around the FastAPI app."""

from __future__ import annotations

import socketio
from fastapi import FastAPI

from crazy_gary.app import create_app
from crazy_gary.config import Settings
from crazy_gary.kit.security_headers import SecurityHeadersMiddleware
from crazy_gary.realtime.sockets import build_socket_server


class ServedApp(SecurityHeadersMiddleware):
    """socket.io around the FastAPI app, keeping both at hand (`fastapi_app`, `sio`)."""

    def __init__(self, sio: socketio.AsyncServer, fastapi_app: FastAPI) -> None:
        super().__init__(
            socketio.ASGIApp(sio, other_asgi_app=fastapi_app, socketio_path="socket.io"),
            only_under="/socket.io")
        self.sio = sio
        self.fastapi_app = fastapi_app


def build_asgi(settings: Settings) -> ServedApp:
    """FastAPI for HTTP; /socket.io/ served by the socket.io server (JWT checked at connect
    and re-checked by the runtime's stream guard). socket.io's responses get the security
    headers here; the FastAPI app adds its own."""
    sio = build_socket_server(settings)
    return ServedApp(sio, create_app(settings, socket_servers=[sio]))
