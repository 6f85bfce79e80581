"""What the hub hands out: tool descriptions and call results."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

READ, IDEMPOTENT, WRITE = "read", "idempotent", "write"


@dataclass(frozen=True)
class Tool:
    """One tool of one client; `schema` is the tool's JSON Schema for its parameters.

    `effects` is what a call does, for the crash contract: `read` (MCP `readOnlyHint`),
    `idempotent` (`idempotentHint`) or `write` (anything else). `destructive` is MCP's
    `destructiveHint`; `approval` the server's policy rules from mcp.json."""

    name: str
    description: str
    schema: dict[str, Any]
    client: str
    effects: str = WRITE
    destructive: bool = False
    approval: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "schema": self.schema,
                "client": self.client, "effects": self.effects}


def effects_of(annotations: Any) -> tuple[str, bool]:
    """(effects, destructive) from a tool's MCP annotations (None: a plain write tool).
    Only an explicit `destructiveHint: true` counts as destructive."""
    if annotations is None:
        return WRITE, False
    destructive = getattr(annotations, "destructive_hint", None) is True
    if getattr(annotations, "read_only_hint", None) is True:
        return READ, False
    if getattr(annotations, "idempotent_hint", None) is True:
        return IDEMPOTENT, destructive
    return WRITE, destructive


@dataclass
class ToolResult:
    """Outcome of one call. `success=False` carries the tool's own error (or a timeout)."""

    success: bool
    result: Any = None
    error: str | None = None
    latency_ms: float = 0.0
    client: str = ""
    tool: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"success": self.success, "result": self.result, "error": self.error,
                "latency_ms": round(self.latency_ms, 2), "client": self.client,
                "tool": self.tool}
