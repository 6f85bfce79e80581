"""Sub-agents inside an orchestration: each is a task of the tasks domain whose durable
workflow runs as a child of the step's workflow (see heavy.workflows)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from typing import Any, Protocol, runtime_checkable

from crazy_gary.db import session_scope, utcnow
from crazy_gary.errors import AppError, Conflict
from crazy_gary.heavy import runtime
from crazy_gary.heavy.execution import blocked_by, resolved_params, wait_for_dependencies
from crazy_gary.heavy.plans import AGENT_SHARE_OF_TIMEOUT
from crazy_gary.heavy.references import ReferenceError_
from crazy_gary.heavy.status import StepStatus
from crazy_gary.heavy.tools import ToolContext, ToolError, get_tool
from crazy_gary.realtime.broker import PublishedEvent
from crazy_gary.realtime.waits import wait_for
from crazy_gary.tasks.service import mark_stopped, snapshot

log = logging.getLogger(__name__)


@runtime_checkable
class SubAgentTool(Protocol):
    """What a step needs of the `agent` tool (heavy/tools/agent.py, which imports this module)."""

    async def create(self, ctx: ToolContext, params: dict[str, Any], *, title: str) -> str: ...

FOLLOW_SECONDS = 5.0


async def prepare(orch_id: str, step: int) -> dict[str, Any]:
    """Wait for the step's inputs, then create its task: {"task_id"} or {"status"}."""
    ready = await wait_for_dependencies(orch_id, step)
    if ready is None:
        return {"status": "ended"}
    orch, me, deps = ready
    if me.task_id:  # re-run after a crash: the task exists already
        return {"task_id": me.task_id}
    if await blocked_by(orch_id, me, deps):
        return {"status": "skipped"}
    started = utcnow()
    tool = get_tool("agent")
    if not isinstance(tool, SubAgentTool):
        raise RuntimeError("the agent tool is not registered")
    try:
        params = resolved_params(tool, me, deps)
        if orch.started_at is not None:  # never past the run's deadline (minus the
            # synthesis' share in heavy mode, so a slow agent fails alone)
            left = orch.started_at.timestamp() + orch.timeout_seconds - time.time()
            if orch.mode == "multi_agent":
                left -= orch.timeout_seconds * (1 - AGENT_SHARE_OF_TIMEOUT)
            params["timeout"] = max(1.0, min(params.get("timeout", left), left))
        ctx = ToolContext(user_id=orch.user_id, orchestration_id=orch_id, step=step)
        task_id = await tool.create(ctx, params, title=me.name)
    except (ToolError, ReferenceError_, AppError) as exc:
        message = exc.message if isinstance(exc, AppError) else str(exc)
        await runtime.update_step(orch_id, step, status=StepStatus.FAILED, started_at=started,
                                  error=message)
        return {"status": "failed"}
    # One write marks the step running with its task (fewer writes: less contention).
    if not await runtime.update_step(orch_id, step, status=StepStatus.RUNNING, started_at=started,
                                     progress=0.0, error=None, task_id=task_id):
        await stop_tasks(orch.user_id, [task_id])  # the run ended meanwhile
        return {"status": "ended"}
    return {"task_id": task_id}


async def follow(orch_id: str, step: int, task_id: str) -> None:
    """Mirror the task's progress and usage onto the step until cancelled: re-read on each
    of the task's events (and every FOLLOW_SECONDS, for a task run by another process)."""
    seen = None
    first = await snapshot(task_id)

    async def mirror() -> None:
        nonlocal seen
        snap = await snapshot(task_id)
        if snap is not None and (snap["progress"], snap["usage"]) != seen:
            seen = (snap["progress"], snap["usage"])
            # Shielded: the follower is cancelled when the task ends, and a write cut off
            # between its statement and its commit would keep SQLite's write lock.
            await asyncio.shield(runtime.update_step(
                orch_id, step, allowed_from=(StepStatus.RUNNING,),
                progress=min(99.0, float(snap["progress"] or 0)), usage=snap["usage"]))

    def about_it(event: PublishedEvent) -> bool:
        return event.data.get("task_id") == task_id

    await wait_for(mirror, user_id=first["user_id"] if first else None, match=about_it,
                   within=math.inf, recheck=FOLLOW_SECONDS)


async def finish(orch_id: str, step: int, task_id: str) -> dict[str, Any]:
    """Record the finished task's answer (or failure) on the step."""
    snap = await snapshot(task_id)
    if snap is None:
        await runtime.update_step(orch_id, step, status=StepStatus.FAILED,
                                  error="sub-agent task lost")
        return {"status": "failed"}
    try:
        result = outcome(snap)
    except ToolError as exc:
        await runtime.update_step(orch_id, step, status=StepStatus.FAILED, error=str(exc),
                                  usage=snap["usage"])
        return {"status": "failed"}
    await runtime.update_step(orch_id, step, status=StepStatus.COMPLETED, progress=100.0,
                              result=result, usage=snap["usage"])
    return {"status": "completed"}


async def stop_tasks(user_id: int, task_ids: list[str]) -> None:
    """Mark sub-agent tasks stopped, each with its `task_update` in the same transaction
    (their workflows are cancelled by the caller)."""
    for task_id in task_ids:
        with contextlib.suppress(Conflict, AppError):
            async with session_scope() as session:
                await mark_stopped(session, user_id=user_id, task_id=task_id)


def outcome(snap: dict[str, Any]) -> dict[str, Any]:
    """The step result of a finished sub-agent, or ToolError when it did not complete."""
    if snap["status"] != "completed":
        error = snap.get("error") or {}
        message = error.get("message") if isinstance(error, dict) else str(error)
        raise ToolError(f"sub-agent {snap['status']}: {message or 'no answer'}")
    return {"task_id": snap["task_id"], "status": snap["status"], "answer": snap["answer"],
            "model": snap.get("answered_by") or snap.get("model"), "usage": snap["usage"]}
