"""The tool hub's workspace file tools (list, read, write, search) as workflow steps."""

from __future__ import annotations

from typing import Any

from crazy_gary.errors import AppError
from crazy_gary.heavy.tools import register
from crazy_gary.heavy.tools.base import Tool, ToolContext, ToolError, contract_parameters
from crazy_gary.toolhub import get_hub

WORKSPACE_CLIENT = "workspace"
TITLES = {"list_files": "List Files", "read_file": "Read File", "write_file": "Write File",
          "search_code": "Code Search"}


class WorkspaceTool(Tool):
    category = "workspace"
    typical_seconds = 0.5

    def __init__(self, name: str, description: str, schema: dict[str, Any]) -> None:
        self.name = name
        self.title = TITLES.get(name, name.replace("_", " ").title())
        self.description = description
        self.parameters = contract_parameters(schema)

    async def run(self, ctx: ToolContext, params: dict[str, Any]) -> Any:
        try:
            result = await get_hub().execute(WORKSPACE_CLIENT, self.name, params,
                                             user_id=ctx.user_id)
        except AppError as exc:
            raise ToolError(exc.message) from exc
        if not result.success:
            raise ToolError(result.error or f"{self.name} failed")
        return result.result


def _register_all() -> None:

    for info in get_hub().list_tools(WORKSPACE_CLIENT):
        register(WorkspaceTool(info.name, info.description, info.schema))


_register_all()
