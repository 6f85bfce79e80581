"""mcp_tool: any tool of the tool hub, named by client and tool."""

from __future__ import annotations

from typing import Any

from crazy_gary.errors import AppError, NotFound
from crazy_gary.heavy.tools import register
from crazy_gary.heavy.tools.base import Tool, ToolContext, ToolError
from crazy_gary.toolhub import get_hub
from crazy_gary.toolhub.validation import schema_errors


class McpTool(Tool):
    name = "mcp_tool"
    title = "Tool Call"
    description = "Call any tool from the tool hub (MCP servers and built-in clients)"
    category = "integration"
    parameters = {
        "client": {"type": "string", "minLength": 1, "description": "Client (server) name",
                   "required": True},
        "tool": {"type": "string", "minLength": 1, "description": "Tool name on that client",
                 "required": True},
        "arguments": {"type": "object", "default": {}, "description": "The tool's arguments",
                      "required": False},
        "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 3600,
                    "description": "Seconds before the call is abandoned", "required": False},
    }
    typical_seconds = 5.0

    def validate(self, params: dict[str, Any]) -> list[str]:
        try:
            info = get_hub().get_tool(params["client"], params["tool"])
        except NotFound:
            return [f"no tool '{params['tool']}' on client '{params['client']}'"]
        except AppError:  # client down now: it may be back when the step runs
            return []
        return [f"arguments.{m}" for m in schema_errors(info.schema, params.get("arguments", {}))]

    async def run(self, ctx: ToolContext, params: dict[str, Any]) -> Any:
        try:
            result = await get_hub().execute(params["client"], params["tool"],
                                             params.get("arguments") or {}, user_id=ctx.user_id,
                                             timeout=params.get("timeout"))
        except AppError as exc:
            raise ToolError(exc.message) from exc
        if not result.success:
            raise ToolError(result.error or "tool call failed")
        return {"client": result.client, "tool": result.tool, "result": result.result,
                "latency_ms": round(result.latency_ms, 1)}


register(McpTool())
