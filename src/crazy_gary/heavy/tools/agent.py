"""agent: a sub-agent running the full agent loop (the tasks domain) on a sub-task.

Inside an orchestration the task's durable workflow runs as a child of the step's
workflow (see heavy.workflows); `run` here serves one-off calls (tools/execute).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from dbos import DBOS, SetWorkflowID

from crazy_gary.agent.workflows import run_task
from crazy_gary.heavy.agents import outcome, stop_tasks
from crazy_gary.heavy.tools import register
from crazy_gary.heavy.tools.base import Tool, ToolContext, ToolError
from crazy_gary.kit.tool_policy import TOOL_POLICY_SCHEMA
from crazy_gary.llm.names import ModelName
from crazy_gary.tasks.service import create_task_for_user, snapshot

FINAL = ("completed", "failed", "stopped")
POLL_SECONDS = 0.2


class AgentTool(Tool):
    name = "agent"
    title = "Sub-agent"
    description = "Run a sub-agent (a full agent loop with tools) on a sub-task"
    category = "agents"
    parameters = {
        "task": {"type": "string", "minLength": 1, "maxLength": 20000,
                 "description": "What the sub-agent should do or answer", "required": True},
        "context": {"type": "string", "maxLength": 20000,
                    "description": "Background the sub-agent should know", "required": False},
        "model": {"type": "string", "enum": [m.value for m in ModelName],
                  "default": "gpt-oss-20b", "description": "Model the sub-agent thinks with",
                  "required": False},
        "max_steps": {"type": "integer", "minimum": 1, "maximum": 200,
                      "description": "Most tool-using turns", "required": False},
        "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 86400,
                    "description": "Seconds the sub-agent may take", "required": False},
        "tools": {"type": "array", "items": {"type": "string"},
                  "description": "Allowed tools ('client.tool' or 'client.*'); default all",
                  "required": False},
        "tool_policy": {**TOOL_POLICY_SCHEMA, "required": False,
                        "description": "allow / ask / deny per tool, as on POST /api/tasks"},
    }
    typical_seconds = 60.0

    async def create(self, ctx: ToolContext, params: dict[str, Any], *, title: str) -> str:
        """The sub-agent's task (created, not started), marked with this orchestration."""
        description = params["task"]
        if params.get("context"):
            description += f"\n\nContext: {params['context']}"
        return await create_task_for_user(
            user_id=ctx.user_id, title=title, description=description,
            model=params.get("model", "gpt-oss-20b"), origin="heavy",
            parent_id=ctx.orchestration_id, max_steps=params.get("max_steps"),
            timeout_seconds=params.get("timeout"), tools=params.get("tools"),
            tool_policy=params.get("tool_policy"))

    async def run(self, ctx: ToolContext, params: dict[str, Any]) -> Any:
        task_id = await self.create(ctx, params, title=params["task"][:80])
        with SetWorkflowID(task_id):
            await DBOS.start_workflow_async(run_task, task_id)
        try:
            snap = await follow(task_id, ctx.report_progress)
        except asyncio.CancelledError:  # the caller went away: the sub-agent stops too

            await stop_tasks(ctx.user_id, [task_id])
            await DBOS.cancel_workflow_async(task_id)
            raise
        return outcome(snap)


async def follow(task_id: str, report: Callable[[float], Awaitable[None]],
                 on_usage: Callable[[Any], Awaitable[None]] | None = None) -> dict[str, Any]:
    """Poll the task until it ends, passing on its progress; its last snapshot."""
    last_progress = None
    while True:
        snap = await snapshot(task_id)
        if snap is None:
            raise ToolError(f"sub-agent task {task_id} disappeared")
        if snap["status"] in FINAL:
            return snap
        if snap["progress"] != last_progress:
            last_progress = snap["progress"]
            await report(float(snap["progress"] or 0))
            if on_usage is not None:
                await on_usage(snap["usage"])
        await asyncio.sleep(POLL_SECONDS)


register(AgentTool())
