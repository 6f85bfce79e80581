"""`Client`: the same API for synchronous code.

It is a thin layer over `AsyncClient`: one event loop in a daemon thread runs the async
methods, so both clients share every line of request building, refresh, retry and
parsing. Each area method is called without `await`; async iterators become iterators
and async context managers become context managers.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import inspect
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from crazy_gary.client.aio import AREAS, AsyncClient

T = TypeVar("T")
PLAIN = (BaseModel, str, bytes, int, float, bool, list, dict, tuple, type(None), Path)


class Portal:
    """An event loop in a daemon thread; `call` runs a coroutine there and waits."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True,
                                       name="crazy-gary-client")
        self.thread.start()

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        running: list[asyncio.Task[Any]] = []

        async def run() -> T:
            running.append(asyncio.current_task())  # type: ignore[arg-type]
            return await coro

        future = asyncio.run_coroutine_threadsafe(run(), self.loop)
        try:
            return future.result()
        except BaseException:
            if not future.done():  # Ctrl-C in the caller: cancel the work in the loop too
                future.cancel()
                asyncio.run_coroutine_threadsafe(_settled(running), self.loop).result(10)
            raise

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()


async def _settled(tasks: list[asyncio.Task[Any]]) -> None:
    """Wait until a cancelled call has really ended (its generator may be closed after)."""
    if tasks:
        await asyncio.wait(tasks, timeout=5)


def wrap(value: Any, portal: Portal) -> Any:
    """A result made synchronous: awaited, passed through, or proxied."""
    if inspect.isawaitable(value):
        return wrap(portal.call(_awaited(value)), portal)
    if isinstance(value, PLAIN) or dataclasses.is_dataclass(value):
        return value
    return SyncProxy(value, portal)


def unwrap(value: Any) -> Any:
    """The async object behind a proxy (a subscription handed back to another call)."""
    return value._target if isinstance(value, SyncProxy) else value


async def _awaited(value: Any) -> Any:
    return await value


class SyncProxy:
    """Any object of the async client, with its methods made synchronous."""

    def __init__(self, target: Any, portal: Portal) -> None:
        self._target = target
        self._portal = portal

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if callable(attr) and not isinstance(attr, type):
            @functools.wraps(attr)
            def call(*args: Any, **kwargs: Any) -> Any:
                args = tuple(unwrap(a) for a in args)
                kwargs = {k: unwrap(v) for k, v in kwargs.items()}
                return wrap(attr(*args, **kwargs), self._portal)

            return call
        return wrap(attr, self._portal)

    def __repr__(self) -> str:
        return f"<sync {self._target!r}>"

    def __iter__(self) -> Iterator[Any]:
        iterator = self._target.__aiter__()
        try:
            while True:
                try:
                    item = self._portal.call(_awaited(iterator.__anext__()))
                except StopAsyncIteration:
                    return
                yield wrap(item, self._portal)
        finally:
            if hasattr(iterator, "aclose"):
                self._portal.call(iterator.aclose())

    def __enter__(self) -> Any:
        return wrap(self._portal.call(_awaited(self._target.__aenter__())), self._portal)

    def __exit__(self, *exc: Any) -> Any:
        return self._portal.call(_awaited(self._target.__aexit__(*exc)))


class Client:
    """The Crazy Gary API for synchronous code (same arguments as `AsyncClient`)."""

    def __init__(self, base_url: str = "http://127.0.0.1:8000", **options: Any) -> None:
        self._portal = Portal()
        self.aio: AsyncClient = self._portal.call(_build(base_url, options))
        for area in AREAS:
            setattr(self, area, SyncProxy(getattr(self.aio, area), self._portal))

    auth: Any
    users: Any
    tasks: Any
    chat: Any
    events: Any
    endpoints: Any
    tools: Any
    files: Any
    heavy: Any
    monitoring: Any
    health: Any
    schedules: Any
    webhooks: Any
    usage: Any
    approvals: Any

    @property
    def token(self) -> str | None:
        return self.aio.token

    @property
    def refresh_token(self) -> str | None:
        return self.aio.refresh_token

    def close(self) -> None:
        self._portal.call(self.aio.aclose())
        self._portal.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


async def _build(base_url: str, options: dict[str, Any]) -> AsyncClient:
    return AsyncClient(base_url, **options)  # built in the loop that will use it
