"""ORM rows to API shapes (and to event payloads)."""

from __future__ import annotations

from typing import Any

from crazy_gary.approvals.schemas import ApprovalRead
from crazy_gary.kit.clock import iso
from crazy_gary.tasks.models import Task, TaskStep
from crazy_gary.tasks.schemas import TaskDetail, TaskError, TaskRead
from crazy_gary.tasks.status import TaskStatus


def task_read(task: Task) -> TaskRead:
    # validated: the status and priority columns are plain strings, the API's are enums
    return TaskRead.model_validate(dict(
        id=task.id, title=task.title, description=task.description, status=task.status,
        model=task.model, priority=task.priority, progress=task.progress,
        phase=task.phase if task.status == TaskStatus.RUNNING else None,
        cost_usd=round(task.cost_usd or 0.0, 8), retry_of=task.retry_of,
        created_at=iso(task.created_at), updated_at=iso(task.updated_at),
    ))


def step_dict(step: TaskStep) -> dict[str, Any]:
    out: dict[str, Any] = {"seq": step.seq, "kind": step.kind, "outcome": step.outcome,
                           "at": iso(step.created_at), "latency_ms": round(step.latency_ms, 1)}
    if step.kind == "tool":
        out.update(tool=step.name, arguments=step.arguments, output=step.output)
    else:
        out.update(model=step.model, content=step.output,
                   usage={"prompt_tokens": step.prompt_tokens,
                          "completion_tokens": step.completion_tokens,
                          "total_tokens": step.prompt_tokens + step.completion_tokens},
                   cost_usd=round(step.cost_usd, 8))
        if step.arguments:
            out["tool_calls"] = step.arguments
    return out


def usage_dict(task: Task) -> dict[str, Any]:
    return {"prompt_tokens": task.prompt_tokens, "completion_tokens": task.completion_tokens,
            "total_tokens": task.total_tokens, "cost_usd": round(task.cost_usd, 8)}


def result_dict(task: Task, steps: list[TaskStep]) -> dict[str, Any] | None:
    """The answer and everything done so far (also for failed and stopped tasks)."""
    if task.answer is None and not steps:
        return None
    artifacts = []
    for step in steps:
        if step.kind == "tool" and step.outcome == "ok" and step.name and (
            step.name.endswith("write_file") and isinstance(step.arguments, dict)
        ):
            path = step.arguments.get("path")
            if path and path not in artifacts:
                artifacts.append(path)
    return {
        "answer": task.answer,
        "plan": task.plan,
        "steps": [step_dict(s) for s in steps],
        "artifacts": artifacts,
        "usage": usage_dict(task),
        "answered_by": task.answered_by,
    }


def task_detail(task: Task, steps: list[TaskStep],
                pending: list[ApprovalRead] | None = None) -> TaskDetail:
    base = task_read(task).model_dump()
    return TaskDetail(
        **base,
        phase_reason=task.phase_reason if task.status == TaskStatus.RUNNING else None,
        plan=task.plan, origin=task.origin, parent_id=task.parent_id,
        conversation_id=task.conversation_id, schedule_id=task.schedule_id,
        started_at=iso(task.started_at), completed_at=iso(task.completed_at),
        result=result_dict(task, steps),
        error=TaskError(**task.error) if task.error else None,
        pending_approvals=pending or [],
    )


def event_payload(task: Task, **extra: Any) -> dict[str, Any]:
    """The body of a task's events (`task_created`, `task_update`, `task_completed`); the
    user id is a string, as the contract's events show it."""
    data: dict[str, Any] = {
        "task_id": task.id, "user_id": str(task.user_id), "title": task.title,
        "status": task.status,
        "phase": task.phase if task.status == TaskStatus.RUNNING else None,
        "phase_reason": task.phase_reason if task.status == TaskStatus.RUNNING else None,
        "progress": task.progress, "updated_at": iso(task.updated_at),
    }
    if task.error:
        data["error"] = task.error
    data.update(extra)
    return data


def duration_seconds(task: Task) -> float | None:
    """Seconds from start (or creation, if it never started) to the end; None while open."""
    if task.completed_at is None:
        return None
    began = task.started_at or task.created_at
    return round((task.completed_at - began).total_seconds(), 3)
