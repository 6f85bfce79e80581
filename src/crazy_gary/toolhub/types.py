"""What the hub hands out: tool descriptions and call results."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Tool:
    """One tool of one client; `schema` is the tool's JSON Schema for its parameters."""

    name: str
    description: str
    schema: dict[str, Any]
    client: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "schema": self.schema,
                "client": self.client}


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
