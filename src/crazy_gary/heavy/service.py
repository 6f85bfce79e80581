"""Heavy orchestration service: start, watch, stop; list and execute tools."""

from __future__ import annotations

import asyncio
import time
from functools import partial
from typing import Any

from dbos import DBOS
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crazy_gary.errors import Conflict, NotFound, ValidationFailed
from crazy_gary.heavy import agents, runtime, workflows
from crazy_gary.heavy.execution import stored_result
from crazy_gary.heavy.models import Orchestration, OrchestrationStep
from crazy_gary.heavy.plans import PlannedStep, critical_path, plan_multi_agent, plan_workflow
from crazy_gary.heavy.presenters import progress_body
from crazy_gary.heavy.schemas import OrchestrateRequest
from crazy_gary.heavy.status import (
    TERMINAL_ORCHESTRATION,
    OrchestrationStatus,
    StepStatus,
)
from crazy_gary.heavy.tools import ToolContext, ToolError, get_tool, public_tools
from crazy_gary.kit.ids import new_id
from crazy_gary.kit.unit_of_work import after_commit
from crazy_gary.usage.quota import ensure_within as ensure_within_quota

NOT_FOUND = "Orchestration not found"


async def estimates_for(session: AsyncSession, tools: set[str]) -> dict[str, float]:
    defaults = {}
    for name in tools:
        tool = get_tool(name)
        defaults[name] = tool.typical_seconds if tool else 10.0
    return await runtime.tool_estimates(session, tools, defaults)


async def create_orchestration(session: AsyncSession, *, user_id: int,
                               data: OrchestrateRequest) -> Orchestration:
    """Check and store an orchestration (not yet started: see `launch`)."""
    if data.workflow is not None:
        plans = plan_workflow(data.workflow, parallel=data.config.parallel)
        mode, parallel = "workflow", data.config.parallel
    else:
        plans = plan_multi_agent(data.query or "", data.num_agents,
                                 timeout=data.config.timeout)
        mode, parallel = "multi_agent", True
    estimates = await estimates_for(session, {p.tool for p in plans})
    estimate = critical_path({p.step: estimates[p.tool] for p in plans},
                             {p.step: p.depends_on for p in plans})
    orch = Orchestration(
        id=new_id("orch"), user_id=user_id, mode=mode, status=OrchestrationStatus.STARTED,
        parallel=parallel,
        timeout_seconds=data.config.timeout, query=data.query,
        num_agents=data.num_agents if mode == "multi_agent" else None,
        total_steps=len(plans), estimated_duration=round(min(estimate, data.config.timeout), 1),
        artifacts=[])
    session.add(orch)
    session.add_all(_step_row(orch.id, p) for p in plans)
    await session.flush()
    return orch


def _step_row(orch_id: str, p: PlannedStep) -> OrchestrationStep:
    return OrchestrationStep(
        orchestration_id=orch_id, step=p.step, position=p.position, name=p.name, tool=p.tool,
        parameters=p.parameters, depends_on=p.depends_on, needs_success=p.needs_success,
        status=StepStatus.PENDING, progress=0.0)


async def start_orchestration(session: AsyncSession, *, user_id: int,
                              data: OrchestrateRequest) -> Orchestration:
    """Store an orchestration with its first `orchestration_update`; its durable run is
    launched once this commits (the run must find its rows). 429 when the user's monthly
    quota is used up: the run would spend nothing but refused model calls."""
    await ensure_within_quota(session, user_id)
    orch = await create_orchestration(session, user_id=user_id, data=data)
    await runtime.record_update(session, orch.id)
    after_commit(session, partial(workflows.launch, orch.id))
    return orch


async def _owned(session: AsyncSession, *, user_id: int, orchestration_id: str | None
                 ) -> Orchestration:
    if orchestration_id is None:
        orch = await session.scalar(
            select(Orchestration).where(Orchestration.user_id == user_id)
            .order_by(Orchestration.created_at.desc(), Orchestration.id.desc()).limit(1))
    else:
        # Fresh from the database: runs change in other sessions (workflows, stop).
        orch = await session.get(Orchestration, orchestration_id, populate_existing=True)
    if orch is None or orch.user_id != user_id:
        raise NotFound(NOT_FOUND)
    return orch


async def get_progress(session: AsyncSession, *, user_id: int,
                       orchestration_id: str | None) -> dict[str, Any]:
    """The progress body of one of the caller's orchestrations (the latest by default)."""
    orch = await _owned(session, user_id=user_id, orchestration_id=orchestration_id)
    steps = list((await session.scalars(
        select(OrchestrationStep).where(OrchestrationStep.orchestration_id == orch.id)
        .execution_options(populate_existing=True))).all())
    estimates = await estimates_for(session, {s.tool for s in steps})
    return progress_body(orch, steps, estimates)


async def stop_orchestration(session: AsyncSession, *, user_id: int,
                             orchestration_id: str) -> None:
    """Cancel a running orchestration: its steps stop, finished results stay."""
    orch = await _owned(session, user_id=user_id, orchestration_id=orchestration_id)
    if orch.status in TERMINAL_ORCHESTRATION:
        raise Conflict(f"Orchestration already {orch.status}")
    task_ids = await runtime.end_orchestration(
        orch.id, status=OrchestrationStatus.CANCELLED, error="Stopped by user",
        step_error="stopped by user")
    if task_ids is None:
        raise Conflict("Orchestration already ended")
    await agents.stop_tasks(user_id, task_ids)
    await DBOS.cancel_workflow_async(orch.id, cancel_children=True)


def list_tools() -> list[dict[str, Any]]:
    return [t.describe() for t in sorted(public_tools(), key=lambda t: (t.category, t.name))]


async def execute_tool(*, user_id: int, tool_name: str, parameters: dict[str, Any],
                       limit_seconds: float) -> dict[str, Any]:
    """Run one tool now: {"result", "execution_time", "success"} (+ "error" on failure)."""
    tool = get_tool(tool_name)
    if tool is None or not tool.public:
        raise ValidationFailed([f"tool_name: unknown tool '{tool_name}'"])
    if not tool.standalone:
        raise ValidationFailed([f"tool_name: '{tool_name}' only runs inside a workflow"])
    problems = tool.check(parameters)
    if problems:
        raise ValidationFailed([f"parameters.{m}" if ":" in m else f"parameters: {m}"
                                for m in problems])
    params = tool.with_defaults(parameters)
    start = time.perf_counter()
    try:
        result = stored_result(await asyncio.wait_for(
            tool.run(ToolContext(user_id=user_id), params), limit_seconds))
    except ToolError as exc:
        return {"result": None, "execution_time": _since(start), "success": False,
                "error": str(exc)}
    except TimeoutError:
        return {"result": None, "execution_time": _since(start), "success": False,
                "error": f"timed out after {limit_seconds:g}s"}
    return {"result": result, "execution_time": _since(start), "success": True}


def _since(start: float) -> float:
    return round(time.perf_counter() - start, 3)
