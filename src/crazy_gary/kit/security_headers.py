"""Security headers on every HTTP response, as pure ASGI (one pass over the response's
header names, nothing else per request)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Added unless the response already carries the header: a route that sets its own
# Content-Security-Policy (a web page) keeps it.
DEFAULTS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
)
# Only over HTTPS (the scheme after uvicorn's trusted-proxy handling): a browser must learn
# it from a secure response, and sending it over plain HTTP would lock out a plain-HTTP
# deployment.
HSTS = (b"strict-transport-security", b"max-age=31536000")


def secured(headers: list[tuple[bytes, bytes]], https: bool) -> list[tuple[bytes, bytes]]:
    """`headers` plus every default it lacks."""
    present = {name.lower() for name, _ in headers}
    extra = [pair for pair in DEFAULTS if pair[0] not in present]
    if https and HSTS[0] not in present:
        extra.append(HSTS)
    return [*headers, *extra] if extra else headers


class SecurityHeadersMiddleware:
    """With `only_under`, responses to other paths pass untouched (the socket.io mount wraps
    the API, which adds the headers itself)."""

    def __init__(self, app: ASGIApp, only_under: str | None = None) -> None:
        self.app = app
        self.only_under = only_under

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (
                self.only_under is not None and not scope["path"].startswith(self.only_under)):
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = secured(message.get("headers") or [], https)
            await send(message)

        await self.app(scope, receive, send_secured)
