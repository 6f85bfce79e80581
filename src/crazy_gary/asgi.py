"""The ASGI application served by uvicorn."""

from __future__ import annotations

from crazy_gary.app import create_app
from crazy_gary.config import Settings


def build_asgi(settings: Settings, *, run_engine: bool = True):
    """The FastAPI app (socket.io is mounted around it by the realtime package)."""
    return create_app(settings, run_engine=run_engine)
