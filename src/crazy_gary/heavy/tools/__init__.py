"""The heavy tool registry: one module per tool."""

from __future__ import annotations

from crazy_gary.heavy.tools.base import Tool, ToolContext, ToolError

_REGISTRY: dict[str, Tool] = {}


def register(tool: Tool) -> Tool:
    _REGISTRY[tool.name] = tool
    return tool


def get_tool(name: str) -> Tool | None:
    _load()
    return _REGISTRY.get(name)


def public_tools() -> list[Tool]:
    _load()
    return [t for t in _REGISTRY.values() if t.public]


_loaded = False


def _load() -> None:
    """Import the tool modules once (they register themselves)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    # deferred: the tool modules import the heavy services, which import this registry;
    # they register themselves on first use, once everything is loaded.
    from crazy_gary.heavy.tools import (  # noqa: F401
        agent,
        code_analyzer,
        control,
        llm_generate,
        mcp_tool,
        multi_agent,
        report_generator,
        workspace_files,
    )


__all__ = ["Tool", "ToolContext", "ToolError", "get_tool", "public_tools", "register"]
