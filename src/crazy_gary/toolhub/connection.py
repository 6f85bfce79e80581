"""One MCP server: a background task that connects, watches and reconnects.

The task owns the transport and the ClientSession (anyio scopes must be entered
and left by the same task); callers only borrow `session` for their requests.
A server that hangs, crashes or refuses to start only ever affects itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import sys
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import httpx2
from mcp import ClientSession
from mcp import types as mcp_types
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from crazy_gary.kit.clock import iso, utcnow
from crazy_gary.toolhub.servers import McpConfigError, ServerConfig
from crazy_gary.toolhub.types import Tool, effects_of

if TYPE_CHECKING:  # the streams both transports yield; the SDK names them only here
    from mcp.client._transport import TransportStreams

log = logging.getLogger(__name__)

CONNECTING, CONNECTED, FAILED, STOPPED = "connecting", "connected", "failed", "stopped"


class ConnectionLost(Exception):
    """The transport under a session went away."""


class _WatchedReadStream:
    """Pass-through read stream that reports end-of-stream (a crashed stdio server)."""

    def __init__(self, inner: Any, on_eof: Callable[[str], None]) -> None:
        self._inner = inner
        self._on_eof = on_eof

    def __getattr__(self, name: str) -> Any:  # last_context and friends
        return getattr(self._inner, name)

    async def receive(self) -> Any:
        try:
            return await self._inner.receive()
        except Exception:
            self._on_eof("the server closed the connection")
            raise

    async def aclose(self) -> None:
        await self._inner.aclose()

    def __aiter__(self) -> _WatchedReadStream:
        return self

    async def __anext__(self) -> Any:
        try:
            return await self._inner.__anext__()
        except StopAsyncIteration:
            self._on_eof("the server closed the connection")
            raise

    async def __aenter__(self) -> _WatchedReadStream:
        await self._inner.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> bool | None:
        suppressed: bool | None = await self._inner.__aexit__(*exc)
        return suppressed


def describe_error(exc: BaseException) -> str:
    """A one-line, trace-free description (exception groups unwrapped)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc).strip() or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:500]


class McpConnection:
    """Status, tools and a usable session for one configured server."""

    def __init__(self, config: ServerConfig, *, call_timeout: float, connect_timeout: float,
                 backoff_initial: float, backoff_max: float, ping_interval: float,
                 log_dir: Path | None = None,
                 on_change: Callable[[], None] | None = None) -> None:
        self.config = config
        self.name = config.name
        self.call_timeout = config.timeout or call_timeout
        self.connect_timeout = config.connect_timeout or connect_timeout
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.ping_interval = ping_interval
        self.log_dir = log_dir
        self.on_change = on_change or (lambda: None)
        self.status = CONNECTING
        self.tools: list[Tool] = []
        self.session: ClientSession | None = None
        self.last_error: str | None = None
        self.last_error_at: datetime | None = None
        self.connected_since: datetime | None = None
        self.last_checked_at: datetime | None = None
        self.last_call_latency_ms: float | None = None
        self.connect_attempts = 0
        self.reconnects = 0
        self._broken = asyncio.Event()
        self._wake = asyncio.Event()  # broken, or the server's tool list changed
        self._tools_dirty = False
        self._broken_reason = ""
        self._task: asyncio.Task[None] | None = None
        self._connected_event = asyncio.Event()

    # lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"mcp-connection:{self.name}")

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(task), 10)
        self._set_down(STOPPED, None)

    async def wait_connected(self, seconds: float) -> bool:
        """True once connected (for tests and callers that can afford to wait)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected_event.wait(), seconds)
        return self.status == CONNECTED

    def mark_broken(self, reason: str) -> None:
        """Ask the background task to drop this session and reconnect."""
        if not self._broken.is_set():
            self._broken_reason = reason
            self._broken.set()
            self._wake.set()
            if self.status == CONNECTED:  # callers see it at once, not after the task wakes
                self._record_error(f"ConnectionLost: {reason}")
                self._set_down(FAILED, reason)

    # the background task -------------------------------------------------------------------
    async def _run(self) -> None:
        delay = self.backoff_initial
        while True:
            self.connect_attempts += 1
            self.status = CONNECTING
            started = time.monotonic()
            try:
                await self._connect_and_serve()
            except asyncio.CancelledError:
                raise
            except BaseException as exc:  # noqa: BLE001 - groups from anyio, OSError, MCPError
                if isinstance(exc, KeyboardInterrupt | SystemExit):
                    raise
                self._record_error(describe_error(exc))
            self._set_down(FAILED, self.last_error)
            if time.monotonic() - started > 30:
                delay = self.backoff_initial  # it was up a while: retry quickly
            wait = delay * (0.8 + 0.4 * random.random())
            log.info("MCP server %s down (%s); reconnecting in %.1fs", self.name,
                     self.last_error, wait)
            await asyncio.sleep(wait)
            delay = min(delay * 2, self.backoff_max)
            self.reconnects += 1

    async def _on_message(self, message: Any) -> None:
        if isinstance(message, mcp_types.ToolListChangedNotification):
            self._tools_dirty = True
            self._wake.set()

    async def _connect_and_serve(self) -> None:
        self._broken.clear()
        self._wake.clear()
        self._tools_dirty = False
        async with AsyncExitStack() as stack:
            async with asyncio.timeout(self.connect_timeout):
                read, write = await stack.enter_async_context(self._transport(stack))
                watched = _WatchedReadStream(read, self.mark_broken)
                session = await stack.enter_async_context(
                    ClientSession(watched, write, message_handler=self._on_message))
                await session.initialize()
                tools = await self._list_tools(session)
            self.session = session
            self.tools = tools
            self.status = CONNECTED
            self.connected_since = self.last_checked_at = utcnow()
            self._connected_event.set()
            self.on_change()
            log.info("MCP server %s connected (%d tools)", self.name, len(tools))
            while True:
                try:
                    await asyncio.wait_for(self._wake.wait(), self.ping_interval)
                except TimeoutError:
                    try:
                        await asyncio.wait_for(session.send_ping(), min(10.0, self.ping_interval))
                    except Exception as exc:
                        raise ConnectionLost(f"ping failed: {describe_error(exc)}") from exc
                    self.last_checked_at = utcnow()
                    continue
                self._wake.clear()
                if self._broken.is_set():
                    raise ConnectionLost(self._broken_reason or "connection lost")
                if self._tools_dirty:  # notifications/tools/list_changed
                    self._tools_dirty = False
                    self.tools = await asyncio.wait_for(self._list_tools(session),
                                                        self.connect_timeout)
                    self.last_checked_at = utcnow()
                    self.on_change()

    def _transport(self, stack: AsyncExitStack) -> AbstractAsyncContextManager[TransportStreams]:
        cfg = self.config
        if cfg.command:
            params = StdioServerParameters(command=cfg.command, args=list(cfg.args),
                                           env=cfg.env or None, cwd=cfg.cwd)
            return stdio_client(params, errlog=self._errlog(stack))
        if cfg.url is None:  # servers.py accepts a config only with a command or a url
            raise McpConfigError(f"server {cfg.name!r} has neither a command nor a url")
        client = httpx2.AsyncClient(headers=cfg.headers,
                                    timeout=httpx2.Timeout(self.connect_timeout, read=None))
        stack.push_async_callback(client.aclose)
        return streamable_http_client(cfg.url, http_client=client)

    def _errlog(self, stack: AsyncExitStack) -> TextIO:
        """The server's stderr goes to a log file under the data dir (not our console)."""
        if self.log_dir is None:
            return sys.stderr
        self.log_dir.mkdir(parents=True, exist_ok=True)
        fh = open(self.log_dir / f"mcp-{self.name}.log", "a")  # noqa: SIM115 - closed by stack
        stack.callback(fh.close)
        return fh

    async def _list_tools(self, session: ClientSession) -> list[Tool]:
        tools: list[Tool] = []
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            params = mcp_types.PaginatedRequestParams(cursor=cursor) if cursor else None
            listing = await session.list_tools(params=params)
            for tool in listing.tools:
                if tool.name in seen:  # names are unique per client
                    continue
                seen.add(tool.name)
                schema = dict(tool.input_schema or {}) or {"type": "object", "properties": {}}
                effects, destructive = effects_of(tool.annotations)
                tools.append(Tool(name=tool.name, description=tool.description or "",
                                  schema=schema, client=self.name, effects=effects,
                                  destructive=destructive, approval=self.config.approval))
            cursor = listing.next_cursor
            if not cursor:
                return tools

    def _record_error(self, message: str) -> None:
        self.last_error = message
        self.last_error_at = utcnow()

    def _set_down(self, status: str, error: str | None) -> None:
        changed = self.status == CONNECTED or self.tools
        self.status = status
        self.session = None
        self.tools = []
        self.connected_since = None
        self.last_checked_at = utcnow()
        self._connected_event.clear()
        if changed:
            self.on_change()

    # calls ------------------------------------------------------------------------------------
    async def call(self, tool: str, parameters: dict[str, Any],
                   seconds: float) -> mcp_types.CallToolResult:
        """One tools/call; raises ConnectionLost when the transport fails under it."""
        session = self.session
        if session is None or self.status != CONNECTED:
            raise ConnectionLost(self.last_error or f"MCP client '{self.name}' is {self.status}")
        try:
            async with asyncio.timeout(seconds):
                return await session.call_tool(tool, parameters)
        except MCPError as exc:
            if exc.code == mcp_types.CONNECTION_CLOSED:
                self.mark_broken(str(exc))
                raise ConnectionLost(str(exc) or "connection closed") from exc
            raise
        except TimeoutError:  # an OSError subclass, but the session is fine
            raise
        except (httpx2.TransportError, OSError) as exc:
            self.mark_broken(describe_error(exc))
            raise ConnectionLost(describe_error(exc)) from exc

    def record_call(self, latency_ms: float) -> None:
        self.last_call_latency_ms = round(latency_ms, 2)

    def snapshot(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "transport": self.config.transport,
            "tool_count": len(self.tools),
            "last_error": self.last_error,
            "last_error_at": iso(self.last_error_at),
            "connected_since": iso(self.connected_since),
            "last_checked_at": iso(self.last_checked_at),
            "last_call_latency_ms": self.last_call_latency_ms,
            "reconnects": self.reconnects,
            "call_timeout_seconds": self.call_timeout,
        }
