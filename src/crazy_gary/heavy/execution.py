"""Running one step: wait for what it needs, resolve references, run the tool."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from crazy_gary.config import get_settings
from crazy_gary.db import utcnow
from crazy_gary.heavy import runtime
from crazy_gary.heavy.models import Orchestration, OrchestrationStep
from crazy_gary.heavy.references import ReferenceError_, resolve
from crazy_gary.heavy.status import TERMINAL_ORCHESTRATION, TERMINAL_STEP, StepStatus
from crazy_gary.heavy.tools import Tool, ToolContext, ToolError, get_tool

log = logging.getLogger(__name__)


def stored_result(value: Any) -> Any:
    """A tool's result as stored JSON; ToolError when over HEAVY_MAX_RESULT_BYTES."""
    text = json.dumps(value, default=str)
    limit = get_settings().heavy_max_result_bytes
    size = len(text.encode())
    if size > limit:
        raise ToolError(f"the result is {size} bytes; the limit for a step's result is "
                        f"{limit} bytes")
    return json.loads(text)


async def wait_for_dependencies(
        orch_id: str, step: int,
) -> tuple[Orchestration, OrchestrationStep, list[OrchestrationStep]] | None:
    """(orchestration, this step, its dependencies) once they have all ended, or None
    when the step or the run already ended."""
    while True:
        orch, steps = await runtime.load(orch_id)
        by_number = {s.step: s for s in steps}
        me = by_number[step]
        if me.status in TERMINAL_STEP or orch.status in TERMINAL_ORCHESTRATION:
            return None
        deps = [by_number[d] for d in me.depends_on]
        if all(d.status in TERMINAL_STEP for d in deps):
            return orch, me, deps
        await runtime.wait_change(orch_id, 0.5)


def progress_reporter(orch_id: str, step: int) -> Callable[[float], Awaitable[None]]:
    last = {"at": 0.0}

    async def report(value: float) -> None:
        now = time.monotonic()
        if now - last["at"] < 0.5:
            return
        last["at"] = now
        await runtime.update_step(orch_id, step, allowed_from=(StepStatus.RUNNING,),
                                  progress=max(0.0, min(99.0, float(value))))

    return report


async def execute_step(orch_id: str, step: int) -> dict[str, Any]:
    """Run one step of an orchestration to its end; the outcome lands in its row."""
    ready = await wait_for_dependencies(orch_id, step)
    if ready is None:
        return {"status": "ended"}
    orch, me, deps = ready
    if await blocked_by(orch_id, me, deps):
        return {"status": "skipped"}
    await runtime.update_step(orch_id, step, status=StepStatus.RUNNING, started_at=utcnow(),
                              progress=0.0, error=None)
    try:
        result = stored_result(await run_tool(orch.user_id, orch_id, me, deps))
    except asyncio.CancelledError:
        await runtime.update_step(orch_id, step, status=StepStatus.CANCELLED, error="cancelled")
        raise
    except (ToolError, ReferenceError_) as exc:
        await runtime.update_step(orch_id, step, status=StepStatus.FAILED, error=str(exc))
        return {"status": "failed"}
    except Exception as exc:  # a bug in a tool must not leak details or kill the run
        log.exception("heavy step %s/%s (%s) crashed", orch_id, step, me.tool)
        await runtime.update_step(orch_id, step, status=StepStatus.FAILED,
                                  error=f"internal error in {me.tool}: {type(exc).__name__}")
        return {"status": "failed"}
    await runtime.update_step(orch_id, step, status=StepStatus.COMPLETED, progress=100.0,
                              result=result)
    return {"status": "completed"}


async def blocked_by(orch_id: str, me: OrchestrationStep,
                     deps: list[OrchestrationStep]) -> bool:
    """Skip a step whose needed steps did not complete; True when skipped."""
    if not me.needs_success:
        return False
    blocked = [d for d in deps if d.status != StepStatus.COMPLETED]
    if blocked:
        await runtime.update_step(orch_id, me.step, status=StepStatus.SKIPPED,
                                  error=f"step {blocked[0].step} {blocked[0].status}")
    return bool(blocked)


def resolved_params(tool: Tool, me: OrchestrationStep,
                    deps: list[OrchestrationStep]) -> dict[str, Any]:
    """The step's parameters with references replaced, checked against the schema."""
    results = {d.step: d.result for d in deps if d.status == StepStatus.COMPLETED}
    params = tool.with_defaults(resolve(me.parameters or {}, results,
                                        limit=get_settings().heavy_max_parameters_bytes))
    problems = tool.check(params)
    if problems:
        raise ToolError("invalid parameters after resolving references: " + "; ".join(problems))
    return params


async def run_tool(user_id: int, orch_id: str, me: OrchestrationStep,
                   deps: list[OrchestrationStep]) -> Any:
    tool = get_tool(me.tool)
    if tool is None:
        raise ToolError(f"unknown tool '{me.tool}'")
    params = resolved_params(tool, me, deps)
    previous = {d.step: {"tool": d.tool, "status": d.status, "result": d.result,
                         "error": d.error} for d in deps}
    ctx = ToolContext(user_id=user_id, orchestration_id=orch_id, step=me.step, previous=previous,
                      report_progress=progress_reporter(orch_id, me.step))
    return await tool.run(ctx, params)
