"""The process-wide tool hub: catalogue, search and execution over every client."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from mcp.shared.exceptions import MCPError

from crazy_gary import runtime
from crazy_gary.config import Settings
from crazy_gary.durable import check_membership
from crazy_gary.errors import NotFound, ServiceUnavailable, ValidationFailed
from crazy_gary.kit.clock import iso, utcnow
from crazy_gary.observability.metrics import TOOL_CALL_LATENCY
from crazy_gary.observability.tracing import tracer
from crazy_gary.toolhub import builtin
from crazy_gary.toolhub.connection import CONNECTED, CONNECTING, ConnectionLost, McpConnection
from crazy_gary.toolhub.results import result_value, text_of
from crazy_gary.toolhub.search import ToolIndex
from crazy_gary.toolhub.servers import (
    WORKSPACE_CLIENT,
    McpConfigError,
    ServerConfig,
    load_servers,
)
from crazy_gary.toolhub.types import Tool, ToolResult
from crazy_gary.toolhub.validation import validate_parameters

log = logging.getLogger(__name__)
UNAVAILABLE = "MCP_CLIENT_UNAVAILABLE"


class ToolHub:
    """MCP connections plus the built-in `workspace` client behind one catalogue."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.connections: dict[str, McpConnection] = {}
        self.config_error: str | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._index: ToolIndex | None = None
        self._started = False

    # lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        """Start every configured server in the background; never waits for them."""
        self.start_soon()

    def start_soon(self) -> None:
        """`start` for synchronous callers on the event loop that will own the connections."""
        if self._started:
            return
        self._started = True
        self.loop = asyncio.get_running_loop()
        try:
            servers = load_servers(self.settings.mcp_config)
        except McpConfigError as exc:
            self.config_error = str(exc)
            log.error("MCP configuration ignored: %s", exc)
            servers = []
        for config in servers:
            self._add(config)

    async def close(self) -> None:
        connections = list(self.connections.values())
        self.connections.clear()
        await asyncio.gather(*(c.close() for c in connections), return_exceptions=True)
        self._invalidate()
        self._started = False

    async def add_server(self, config: ServerConfig) -> McpConnection:
        """Connect one more server at run time (its name must be new)."""
        if config.name in self.connections or config.name == WORKSPACE_CLIENT:
            raise ValidationFailed(f"MCP client {config.name!r} already exists")
        await self.start()
        return self._add(config)

    async def remove_server(self, name: str) -> None:
        connection = self.connections.pop(name, None)
        if connection is None:
            raise NotFound(f"Unknown MCP client: {name}")
        await connection.close()
        self._invalidate()

    def _add(self, config: ServerConfig) -> McpConnection:
        s = self.settings
        connection = McpConnection(
            config,
            call_timeout=s.mcp_call_timeout_seconds,
            connect_timeout=s.mcp_connect_timeout_seconds,
            backoff_initial=s.mcp_backoff_initial_seconds,
            backoff_max=s.mcp_backoff_max_seconds,
            ping_interval=s.mcp_ping_interval_seconds,
            log_dir=s.resolved_data_dir / "logs",
            on_change=self._invalidate,
        )
        self.connections[config.name] = connection
        connection.start()
        return connection

    def _invalidate(self) -> None:
        self._index = None

    # catalogue ------------------------------------------------------------------------------
    def client_names(self) -> list[str]:
        return [WORKSPACE_CLIENT, *self.connections]

    def list_tools(self, client: str | None = None) -> list[Tool]:
        """Tools of every connected client, or of one (NotFound / ServiceUnavailable)."""
        if client is None:
            tools = list(builtin.TOOLS)
            for connection in list(self.connections.values()):
                if connection.status == CONNECTED:
                    tools.extend(connection.tools)
            return tools
        if client == WORKSPACE_CLIENT:
            return list(builtin.TOOLS)
        connection = self._connection(client)
        if connection.status != CONNECTED:
            raise self._unavailable(connection)
        return list(connection.tools)

    def connecting(self, client: str | None = None) -> bool:
        """Whether an MCP server (any, or the named one) is still starting."""
        return any(c.status == CONNECTING for name, c in list(self.connections.items())
                   if client is None or name == client)

    def search(self, query: str, limit: int = 10) -> list[Tool]:
        """Tools ranked by BM25 relevance of `query` to their names, descriptions, parameters."""
        index = self._index
        if index is None:
            index = self._index = ToolIndex(self.list_tools())
        return index.search(query, limit)

    def get_tool(self, client: str, tool: str) -> Tool:
        for info in self.list_tools(client):
            if info.name == tool:
                return info
        raise NotFound(f"Unknown tool {tool!r} on MCP client {client!r}")

    def _connection(self, client: str) -> McpConnection:
        connection = self.connections.get(client)
        if connection is None:
            raise NotFound(f"Unknown MCP client: {client}")
        return connection

    @staticmethod
    def _unavailable(connection: McpConnection, reason: str | None = None) -> ServiceUnavailable:
        why = reason or connection.last_error or connection.status
        return ServiceUnavailable(
            f"MCP client '{connection.name}' is unavailable ({connection.status}): {why}",
            code=UNAVAILABLE,
            details={"client": connection.name, "status": connection.status,
                     "last_error": connection.last_error},
        )

    # execution -----------------------------------------------------------------------------
    async def execute(self, client: str, tool: str, parameters: dict[str, Any] | None, *,
                      user_id: int | str | None, timeout: float | None = None,  # noqa: ASYNC109
                      ) -> ToolResult:
        """Validate and run one tool call for a user; cancellable by task cancellation."""
        if not self._started:
            await self.start()
        await check_membership()  # a process declared dead sends nothing
        running = asyncio.get_running_loop()
        if self.loop is not None and running is not self.loop and self.loop.is_running():
            # Sessions belong to the hub's loop (e.g. a durable step on another loop).
            future = asyncio.run_coroutine_threadsafe(
                self._execute(client, tool, parameters, user_id=user_id, limit=timeout),
                self.loop)
            return await asyncio.wrap_future(future)
        return await self._execute(client, tool, parameters, user_id=user_id, limit=timeout)

    def execute_sync(self, client: str, tool: str, parameters: dict[str, Any] | None, *,
                     user_id: int | str | None, timeout: float | None = None) -> ToolResult:
        """`execute` from a plain thread (never from the hub's own loop)."""
        if self.loop is None or not self.loop.is_running():
            raise ServiceUnavailable("The tool hub is not running", code=UNAVAILABLE)
        future = asyncio.run_coroutine_threadsafe(
            self._execute(client, tool, parameters, user_id=user_id, limit=timeout), self.loop)
        limit = (timeout or self._timeout_of(client)) + 30
        return future.result(limit)

    def _timeout_of(self, client: str) -> float:
        connection = self.connections.get(client)
        return connection.call_timeout if connection else self.settings.mcp_call_timeout_seconds

    async def _execute(self, client: str, tool: str, parameters: dict[str, Any] | None, *,
                       user_id: int | str | None, limit: float | None) -> ToolResult:
        parameters = {} if parameters is None else parameters
        info = self.get_tool(client, tool)
        validate_parameters(info.schema, parameters)
        timeout = limit or self._timeout_of(client)
        outcome = "error"
        started = time.perf_counter()
        with tracer.start_as_current_span(
            "toolhub.execute",
            attributes={"mcp.client": client, "mcp.tool": tool,
                        "user.id": str(user_id) if user_id is not None else ""},
        ) as span:
            try:
                if client == WORKSPACE_CLIENT:
                    result = await self._run_builtin(tool, parameters, user_id, timeout)
                else:
                    result = await self._run_mcp(client, tool, parameters, timeout)
                outcome = "success" if result.success else "error"
            except TimeoutError:
                outcome = "timeout"
                result = ToolResult(success=False,
                                    error=f"Tool call timed out after {timeout:g} s")
            except asyncio.CancelledError:
                outcome = "cancelled"
                raise
            except ConnectionLost as exc:
                outcome = "unavailable"
                connection = self.connections.get(client)
                if connection is None:  # removed while the call was running
                    raise ServiceUnavailable(f"MCP client '{client}' was removed",
                                             code=UNAVAILABLE) from None
                raise self._unavailable(connection, str(exc)) from None
            finally:
                elapsed = time.perf_counter() - started
                TOOL_CALL_LATENCY.labels(client=client, tool=tool, outcome=outcome).observe(elapsed)
                span.set_attribute("mcp.outcome", outcome)
                if client in self.connections:
                    self.connections[client].record_call(elapsed * 1000)
            result.latency_ms = elapsed * 1000
            result.client, result.tool = client, tool
            return result

    async def _run_builtin(self, tool: str, parameters: dict[str, Any],
                           user_id: int | str | None, seconds: float) -> ToolResult:
        if user_id is None:
            raise ValidationFailed("workspace tools need the calling user's identity")
        try:
            value = await asyncio.wait_for(
                asyncio.to_thread(builtin.run, user_id, tool, parameters), seconds)
        except builtin.ToolError as exc:
            return ToolResult(success=False, error=str(exc))
        return ToolResult(success=True, result=value)

    async def _run_mcp(self, client: str, tool: str, parameters: dict[str, Any],
                       seconds: float) -> ToolResult:
        connection = self._connection(client)
        if connection.status != CONNECTED:
            raise self._unavailable(connection)
        try:
            raw = await connection.call(tool, parameters, seconds)
        except MCPError as exc:  # the server refused the call (bad arguments, unknown tool)
            return ToolResult(success=False, error=exc.error.message if exc.error else str(exc))
        if raw.is_error:
            return ToolResult(success=False, error=text_of(raw) or "The tool reported an error",
                              result=raw.structured_content)
        return ToolResult(success=True, result=result_value(raw))

    # status ------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """The contract's status fields plus a per-client breakdown."""
        clients: dict[str, dict[str, Any]] = {
            WORKSPACE_CLIENT: {"status": CONNECTED, "transport": "builtin",
                               "tool_count": len(builtin.TOOLS), "last_error": None,
                               "last_error_at": None, "last_call_latency_ms": None},
        }
        for name, connection in list(self.connections.items()):
            clients[name] = connection.snapshot()
        connected = [name for name, c in clients.items() if c["status"] == CONNECTED]
        external = [c for name, c in clients.items() if name != WORKSPACE_CLIENT]
        down = [c for c in external if c["status"] != CONNECTED]
        if self.config_error or (external and len(down) == len(external)):
            overall = "unhealthy" if external else "degraded"
        elif down:
            overall = "degraded"
        else:
            overall = "healthy"
        checks = [c.last_checked_at for c in self.connections.values() if c.last_checked_at]
        return {
            "status": overall,
            "connected_clients": connected,
            "available_tools": len(self.list_tools()),
            "last_health_check": iso(max(checks)) if checks else iso(utcnow()),
            "clients": clients,
            "config_error": self.config_error,
        }


def get_hub() -> ToolHub:
    """The running runtime's hub (for code outside a request: durable steps)."""
    return runtime.current().hub
