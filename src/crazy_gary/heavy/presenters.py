"""The progress body of an orchestration (GET /progress and orchestration_update events)."""

from __future__ import annotations

import time
from typing import Any

from crazy_gary.heavy.models import Orchestration, OrchestrationStep
from crazy_gary.heavy.plans import critical_path
from crazy_gary.heavy.status import (
    TERMINAL_ORCHESTRATION,
    TERMINAL_STEP,
    OrchestrationStatus,
    StepStatus,
)
from crazy_gary.kit.clock import iso


def step_duration(step: OrchestrationStep, now: float) -> float | None:
    if step.duration is not None:
        return round(step.duration, 3)
    if step.started_at is not None:
        return round(max(0.0, now - step.started_at.timestamp()), 3)
    return None


def overall_progress(steps: list[OrchestrationStep]) -> float:
    """Mean step progress; ended steps count in full, except cancelled ones (a stopped or
    timed-out run shows how far it got)."""
    if not steps:
        return 0.0
    done = sum(100.0 if s.status in TERMINAL_STEP and s.status != StepStatus.CANCELLED
               else s.progress for s in steps)
    return round(done / len(steps), 1)


def current_step(steps: list[OrchestrationStep]) -> int | None:
    """The first running step, else the last finished one, else the first."""
    running = [s.step for s in steps if s.status == StepStatus.RUNNING]
    if running:
        return min(running)
    finished = [s.step for s in steps if s.status in TERMINAL_STEP]
    if finished:
        return max(finished)
    return steps[0].step if steps else None


def time_remaining(orch: Orchestration, steps: list[OrchestrationStep],
                   estimates: dict[str, float], now: float) -> float:
    """Critical path of what is left: pending steps at their estimate, running ones at
    their estimate minus the time already spent."""
    if orch.status in TERMINAL_ORCHESTRATION:
        return 0.0
    costs: dict[int, float] = {}
    for s in steps:
        estimate = estimates.get(s.tool, 10.0)
        if s.status in TERMINAL_STEP:
            costs[s.step] = 0.0
        elif s.status == StepStatus.RUNNING and s.started_at is not None:
            costs[s.step] = max(0.0, estimate - (now - s.started_at.timestamp()))
        else:
            costs[s.step] = estimate
    remaining = critical_path(costs, {s.step: list(s.depends_on or []) for s in steps})
    if orch.started_at is not None:  # never promise more than the timeout leaves
        remaining = min(remaining, max(0.0, orch.started_at.timestamp() + orch.timeout_seconds
                                       - now))
    return round(remaining, 1)


def step_body(s: OrchestrationStep, now: float) -> dict[str, Any]:
    return {
        "step": s.step,
        "name": s.name,
        "tool": s.tool,
        "status": s.status,
        "progress": 100.0 if s.status == StepStatus.COMPLETED else round(s.progress, 1),
        "duration": step_duration(s, now),
        "started_at": iso(s.started_at),
        "completed_at": iso(s.completed_at),
        "depends_on": list(s.depends_on or []),
        "error": s.error,
        "task_id": s.task_id,
        "usage": s.usage,
    }


def progress_body(orch: Orchestration, steps: list[OrchestrationStep],
                  estimates: dict[str, float]) -> dict[str, Any]:
    now = time.time()
    steps = sorted(steps, key=lambda s: s.position)
    body: dict[str, Any] = {
        "orchestration_id": orch.id,
        "mode": orch.mode,
        "progress": (100.0 if orch.status == OrchestrationStatus.COMPLETED
                     else overall_progress(steps)),
        "status": orch.status,
        "current_step": current_step(steps),
        "total_steps": orch.total_steps,
        "steps": [step_body(s, now) for s in steps],
        "estimated_time_remaining": time_remaining(orch, steps, estimates, now),
        "estimated_duration": orch.estimated_duration,
        "created_at": iso(orch.created_at),
        "started_at": iso(orch.started_at),
        "completed_at": iso(orch.completed_at),
        "error": orch.error,
        "query": orch.query,
        "answer": orch.answer,
        "results": None,
        "artifacts": None,
    }
    if orch.status in TERMINAL_ORCHESTRATION:
        body["results"] = [
            {"step": s.step, "tool": s.tool, "status": s.status, "result": s.result,
             "error": s.error}
            for s in steps
        ]
        body["artifacts"] = list(orch.artifacts or [])
    return body


def event_body(orch: Orchestration, steps: list[OrchestrationStep],
               changed: OrchestrationStep | None) -> dict[str, Any]:
    """A compact orchestration_update: overall state plus the step that changed."""
    now = time.time()
    data: dict[str, Any] = {
        "orchestration_id": orch.id,
        "status": orch.status,
        "progress": (100.0 if orch.status == OrchestrationStatus.COMPLETED
                     else overall_progress(steps)),
        "current_step": current_step(sorted(steps, key=lambda s: s.position)),
        "total_steps": orch.total_steps,
    }
    if changed is not None:
        data["step"] = {k: v for k, v in step_body(changed, now).items()
                        if k in ("step", "name", "tool", "status", "progress", "duration",
                                 "error")}
    return data
