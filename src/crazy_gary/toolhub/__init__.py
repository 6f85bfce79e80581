"""Tool hub: MCP connections, built-in tools, a catalogue, search and execution.

Other domains use only what is exported here and `crazy_gary.toolhub.workspace`.
"""

from __future__ import annotations

from crazy_gary.toolhub.hub import ToolHub, get_hub
from crazy_gary.toolhub.types import Tool, ToolResult

__all__ = ["ToolHub", "Tool", "ToolResult", "get_hub"]
