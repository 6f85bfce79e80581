"""One delivery attempt over HTTP: to the checked address, no redirects, a hard timeout."""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx

from crazy_gary.webhooks import signing
from crazy_gary.webhooks.addresses import Target, UnsafeURL, check

USER_AGENT = "crazy-gary-webhooks/1"


@dataclass(frozen=True)
class Attempt:
    ok: bool
    status_code: int | None = None
    error: str | None = None


def _pinned(target: Target) -> tuple[str, dict[str, str], dict[str, str]]:
    """The URL with the host replaced by the checked address, the Host header and the TLS
    server name that keep the original host for the receiver and its certificate."""
    parts = urlsplit(target.url)
    host = f"[{target.address}]" if ":" in target.address else target.address
    default = 443 if target.scheme == "https" else 80
    netloc = host if target.port == default else f"{host}:{target.port}"
    url = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    host_header = parts.netloc.rsplit("@", 1)[-1]
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    return url, {"host": host_header}, extensions


async def send(*, url: str, secret: str, msg_id: str, body: str, timeout_seconds: float,
               allow_private: bool) -> Attempt:
    """Sign and POST the body once; any 2xx is a success, everything else a failure."""
    try:
        target = await check(url, allow_private=allow_private)
    except UnsafeURL as exc:
        return Attempt(ok=False, error=f"refused: {exc}")
    pinned_url, host_header, extensions = _pinned(target)
    headers = {**signing.headers(secret, msg_id=msg_id, timestamp=int(time.time()), body=body),
               **host_header, "user-agent": USER_AGENT}
    try:
        async with httpx.AsyncClient(follow_redirects=False, timeout=timeout_seconds,
                                     trust_env=False) as client:
            response = await client.post(pinned_url, content=body.encode(), headers=headers,
                                         extensions=extensions)
    except httpx.TimeoutException:
        return Attempt(ok=False, error=f"timed out after {timeout_seconds:g}s")
    except httpx.HTTPError as exc:
        return Attempt(ok=False, error=f"{type(exc).__name__}: {exc}"[:500])
    if 200 <= response.status_code < 300:
        return Attempt(ok=True, status_code=response.status_code)
    return Attempt(ok=False, status_code=response.status_code,
                   error=f"answered {response.status_code}")
