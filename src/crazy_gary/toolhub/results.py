"""Turning MCP call results into plain JSON."""

from __future__ import annotations

import json
from typing import Any

from mcp import types as mcp_types


def _content_item(item: Any) -> Any:
    if isinstance(item, mcp_types.TextContent):
        return {"type": "text", "text": item.text}
    return item.model_dump(mode="json", by_alias=True, exclude_none=True)


def text_of(result: mcp_types.CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, mcp_types.TextContent))


def result_value(result: mcp_types.CallToolResult) -> Any:
    """Structured content when the tool gives it; else its text (parsed when it is JSON)."""
    if result.structured_content is not None:
        return result.structured_content
    contents = list(result.content or [])
    if contents and all(isinstance(c, mcp_types.TextContent) for c in contents):
        text = text_of(result)
        if len(contents) == 1:
            try:
                return json.loads(text)
            except ValueError:
                return text
        return text
    return {"content": [_content_item(c) for c in contents]}
