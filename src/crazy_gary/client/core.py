"""The one HTTP layer of both clients: auth headers, refresh on expiry, retries, errors."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx
from pydantic import TypeAdapter

from crazy_gary.client.errors import ApiError, QuotaExceeded, Timeout, TransportError, error_for
from crazy_gary.client.models import Page, RefreshResponse

T = TypeVar("T")
RETRIED_STATUSES = (429, 503)
TokenCallback = Callable[[str | None, str | None], None]


@dataclass(frozen=True)
class RetryPolicy:
    """How 429 and 503 answers are retried: at most `attempts` tries in all and at most
    `max_wait` seconds of waiting; `Retry-After` is honoured, else `backoff` doubles."""

    attempts: int = 3
    max_wait: float = 60.0
    backoff: float = 0.5


class Core:
    """An httpx.AsyncClient with the API's conventions."""

    def __init__(self, base_url: str, *, token: str | None = None,
                 refresh_token: str | None = None, timeout: float = 30.0,
                 wait_timeout: float = 600.0, retry: RetryPolicy | None = None,
                 on_tokens: TokenCallback | None = None,
                 transport: httpx.AsyncBaseTransport | None = None,
                 headers: dict[str, str] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.refresh_token = refresh_token
        self.timeout = timeout
        self.wait_timeout = wait_timeout
        self.retry = retry or RetryPolicy()
        self.on_tokens = on_tokens
        self._refresh_lock = asyncio.Lock()
        self.http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout,
                                      transport=transport,
                                      headers={"User-Agent": "crazy-gary-client",
                                               **(headers or {})})

    async def aclose(self) -> None:
        await self.http.aclose()

    def set_tokens(self, token: str | None, refresh_token: str | None) -> None:
        self.token, self.refresh_token = token, refresh_token
        if self.on_tokens is not None:
            self.on_tokens(token, refresh_token)

    async def request(self, method: str, path: str, *, auth: bool = True,
                      accept: tuple[int, ...] = (), **kwargs: Any) -> httpx.Response:
        """Send a request; errors become `ApiError`s (after refresh and retries)."""
        return await self._send(method, path, auth=auth, accept=accept, stream=False, **kwargs)

    async def call(self, method: str, path: str, model: type[T], **kwargs: Any) -> T:
        """Send a request and validate its JSON body as `model` (a type or a type hint)."""
        resp = await self.request(method, path, **kwargs)
        return adapter(model).validate_json(resp.content)

    @asynccontextmanager
    async def stream(self, method: str, path: str, **kwargs: Any
                     ) -> AsyncIterator[httpx.Response]:
        """A streamed response whose status is already checked."""
        resp = await self._send(method, path, auth=True, accept=(), stream=True, **kwargs)
        try:
            yield resp
        finally:
            await resp.aclose()

    async def page(self, path: str, item: type[T], *, limit: int = 50, offset: int = 0,
                   params: dict[str, Any] | None = None) -> Page[T]:
        """One page of a list route, read with its pagination headers."""
        query = {k: v for k, v in (params or {}).items() if v is not None}
        resp = await self.request("GET", path, params={**query, "limit": limit,
                                                      "offset": offset})
        items = adapter(list[item]).validate_json(resp.content)  # type: ignore[valid-type]
        headers = resp.headers
        total = int(headers.get("x-total-count", len(items)))
        has_more = headers.get("x-has-more", "false").lower() == "true"
        nxt = resp.links.get("next", {}).get("url")
        return Page(items=items, total=total, limit=int(headers.get("x-limit", limit)),
                    offset=int(headers.get("x-offset", offset)), has_more=has_more,
                    next_url=nxt)

    async def pages(self, path: str, item: type[T], *, page_size: int = 50,
                    params: dict[str, Any] | None = None) -> AsyncIterator[T]:
        """Every item of a list route, page after page while `X-Has-More` says so."""
        offset = 0
        while True:
            page = await self.page(path, item, limit=page_size, offset=offset, params=params)
            for entry in page.items:
                yield entry
            if not page.has_more or not page.items:
                return
            offset = page.offset + len(page.items)

    async def ensure_token(self) -> str | None:
        """The access token, refreshed first when only a refresh token is known."""
        if self.token is None and self.refresh_token is not None:
            await self.refresh(stale=None)
        return self.token

    async def refresh(self, stale: str | None) -> None:
        """Trade the refresh token for a new pair (once for concurrent callers)."""
        async with self._refresh_lock:
            if self.token is not None and self.token != stale:
                return  # another call refreshed while this one waited
            if self.refresh_token is None:
                raise error_for(401, {"error": "Signed out: no refresh token",
                                      "code": "AUTH_REQUIRED"}, None)
            resp = await self._raw("POST", "/api/auth/refresh", headers={
                "Authorization": f"Bearer {self.refresh_token}"})
            if resp.status_code != 200:
                raise error_for(resp.status_code, _json(resp), resp.headers.get("x-request-id"))
            body = RefreshResponse.model_validate(resp.json())
            self.set_tokens(body.token, body.refresh_token)

    async def _send(self, method: str, path: str, *, auth: bool, accept: tuple[int, ...],
                    stream: bool, headers: dict[str, str] | None = None,
                    **kwargs: Any) -> httpx.Response:
        refreshed = False
        attempt, waited = 1, 0.0
        while True:
            sent = dict(headers or {})
            token = await self.ensure_token() if auth else None
            if token:
                sent["Authorization"] = f"Bearer {token}"
            resp = await self._raw(method, path, headers=sent, stream=stream, **kwargs)
            if resp.status_code < 400 or resp.status_code in accept:
                return resp
            if stream:
                await resp.aread()
                await resp.aclose()
            error = error_for(resp.status_code, _json(resp), resp.headers.get("x-request-id"))
            if auth and error.code == "TOKEN_EXPIRED" and not refreshed and self.refresh_token:
                refreshed = True
                await self.refresh(stale=token)
                continue
            delay = self._retry_delay(resp, error, attempt, waited)
            if delay is None:
                raise error
            attempt += 1
            waited += delay
            await asyncio.sleep(delay)

    def _retry_delay(self, resp: httpx.Response, error: ApiError, attempt: int,
                     waited: float) -> float | None:
        if resp.status_code not in RETRIED_STATUSES or attempt >= self.retry.attempts:
            return None
        if isinstance(error, QuotaExceeded):  # waiting seconds will not reset a month
            return None
        delay = retry_after(resp.headers.get("retry-after"))
        if delay is None:
            delay = self.retry.backoff * 2 ** (attempt - 1)
        if waited + delay > self.retry.max_wait:
            return None
        return delay

    async def _raw(self, method: str, path: str, *, stream: bool = False,
                   **kwargs: Any) -> httpx.Response:
        try:
            request = self.http.build_request(method, path, **kwargs)
            return await self.http.send(request, stream=stream)
        except httpx.TimeoutException as exc:
            raise Timeout(f"{method} {path}: no answer within the timeout") from exc
        except httpx.HTTPError as exc:
            raise TransportError(f"{method} {self.base_url}{path}: {exc}") from exc


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}  # the client's response types: a fixed, small set


def adapter(model: type[T]) -> TypeAdapter[T]:
    """A validator per response type, built once (JSON mode: timestamps parse from text)."""
    found = _ADAPTERS.get(model)
    if found is None:
        found = _ADAPTERS[model] = TypeAdapter(model)
    return found


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a `Retry-After` header (seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.replace(".", "", 1).isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _json(resp: httpx.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return {"error": resp.text[:200] or f"HTTP {resp.status_code}"}
