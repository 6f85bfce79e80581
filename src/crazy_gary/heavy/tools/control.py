"""Control tools: pause a workflow (rate limits, waiting for something outside)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from crazy_gary.heavy.tools import register
from crazy_gary.heavy.tools.base import Tool, ToolContext


class WaitTool(Tool):
    name = "wait"
    title = "Wait"
    description = "Pause for a number of seconds, then pass on an optional value"
    category = "control"
    parameters = {
        "seconds": {"type": "number", "minimum": 0, "maximum": 86400,
                    "description": "How long to wait", "required": True},
        "value": {"description": "Returned unchanged as `value` once the wait is over",
                  "required": False},
    }
    typical_seconds = 1.0
    standalone = False  # pausing only means something between other steps

    async def run(self, ctx: ToolContext, params: dict[str, Any]) -> Any:
        seconds = float(params["seconds"])
        start = time.monotonic()
        while (left := seconds - (time.monotonic() - start)) > 0:
            await asyncio.sleep(min(left, 0.5))
            await ctx.report_progress(min(99.0, 100 * (time.monotonic() - start) / seconds))
        return {"waited": seconds, "value": params.get("value")}


register(WaitTool())
