"""Reading `mcp.json` (the desktop MCP clients' format) into server definitions."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crazy_gary.kit.tool_policy import PolicyError, Rules, server_rules

WORKSPACE_CLIENT = "workspace"


class McpConfigError(ValueError):
    """The mcp.json file cannot be used."""


@dataclass(frozen=True)
class ServerConfig:
    """One entry of `mcpServers`: a stdio command or a streamable-HTTP URL."""

    name: str
    command: str | None = None
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    timeout: float | None = None  # per-call timeout override (seconds)
    connect_timeout: float | None = None
    approval: Rules = ()  # the `"approval"` policy rules, first match wins

    @property
    def transport(self) -> str:
        return "stdio" if self.command else "streamable-http"


def _number(raw: dict[str, Any], *keys: str) -> float | None:
    for key in keys:
        if raw.get(key) is not None:
            value = float(raw[key])
            # Desktop clients sometimes write milliseconds; anything huge is taken as ms.
            return value / 1000 if value > 3600 else value
    return None


def parse_server(name: str, raw: Any) -> ServerConfig:
    if not isinstance(raw, dict):
        raise McpConfigError(f"server {name!r}: expected an object")
    command, url = raw.get("command"), raw.get("url")
    if bool(command) == bool(url):
        raise McpConfigError(f"server {name!r}: give exactly one of 'command' or 'url'")
    env = {str(k): os.path.expandvars(str(v)) for k, v in (raw.get("env") or {}).items()}
    headers = {str(k): os.path.expandvars(str(v)) for k, v in (raw.get("headers") or {}).items()}
    try:
        approval = server_rules(name, raw.get("approval"))
    except PolicyError as exc:
        raise McpConfigError(str(exc)) from None
    return ServerConfig(
        name=name,
        command=command,
        args=tuple(str(a) for a in raw.get("args") or ()),
        env=env,
        cwd=raw.get("cwd"),
        url=url,
        headers=headers,
        timeout=_number(raw, "timeout", "callTimeout", "call_timeout"),
        connect_timeout=_number(raw, "connectTimeout", "connect_timeout"),
        approval=approval,
    )


def load_servers(path: Path | None) -> list[ServerConfig]:
    """Every enabled server of the file; no file configured means no servers."""
    if path is None:
        return []
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise McpConfigError(f"cannot read MCP config {path}: {exc}") from exc
    servers = data.get("mcpServers") if isinstance(data, dict) else None
    if not isinstance(servers, dict):
        raise McpConfigError(f"{path}: missing 'mcpServers' object")
    result = []
    for name, raw in servers.items():
        if name == WORKSPACE_CLIENT:
            raise McpConfigError(f"server name {name!r} is reserved for the built-in tools")
        if isinstance(raw, dict) and raw.get("disabled"):
            continue
        result.append(parse_server(name, raw))
    return result
