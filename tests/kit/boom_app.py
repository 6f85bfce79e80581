"""The service plus one route that fails unexpectedly (served by `instance_server`)."""

from __future__ import annotations

from crazy_gary.asgi import build_asgi
from crazy_gary.config import get_settings


def build():
    asgi = build_asgi(get_settings())

    @asgi.fastapi_app.get("/boom")
    async def boom():
        raise RuntimeError("secret internals: password=hunter2 at /srv/app.py line 42")

    return asgi
