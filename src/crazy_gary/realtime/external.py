"""Events for outside subscribers (webhooks): which logged events they may receive.

`outbox.record` asks `external_type` about every event it logs; an event outsiders may
receive gets an `OutgoingEvent` row in the same transaction, so a commit that logs it also
commits the promise to deliver it (the webhook dispatcher claims those rows).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Public type -> who may subscribe: a user's own events, or (owner None) admins only.
USER_EVENT_TYPES = frozenset({
    "task.completed", "task.failed", "task.stopped", "approval.requested",
    "orchestration.completed", "orchestration.failed",
})
ADMIN_EVENT_TYPES = frozenset({"alert.fired", "alert.resolved", "endpoint.status_changed"})
WEBHOOK_EVENT_TYPES = USER_EVENT_TYPES | ADMIN_EVENT_TYPES

_TASK_END = {"completed": "task.completed", "failed": "task.failed"}
_ORCHESTRATION_END = {"completed": "orchestration.completed", "failed": "orchestration.failed",
                      "timeout": "orchestration.failed"}


def _task_completed(data: dict[str, Any]) -> str | None:
    return _TASK_END.get(data.get("status", ""))


def _task_update(data: dict[str, Any]) -> str | None:
    # Every stop (asked for, or a streamed turn whose client left) writes one task_update
    # with the status `stopped`; step updates are recorded only while a task runs.
    return "task.stopped" if data.get("status") == "stopped" else None


def _orchestration_update(data: dict[str, Any]) -> str | None:
    # The overall change (no `step` in the body) is recorded once, at the terminal write.
    return None if "step" in data else _ORCHESTRATION_END.get(data.get("status", ""))


_MAPPING: dict[str, Callable[[dict[str, Any]], str | None]] = {
    "task_completed": _task_completed,
    "task_update": _task_update,
    "orchestration_update": _orchestration_update,
    "approval_requested": lambda data: "approval.requested",
    "system_alert": lambda data: "alert.fired",
    "alert_resolved": lambda data: "alert.resolved",
    "endpoint_status": lambda data: "endpoint.status_changed",
}


def external_type(event: str, data: dict[str, Any]) -> str | None:
    """The public webhook type of a logged event, or None when outsiders never see it."""
    mapper = _MAPPING.get(event)
    return mapper(data) if mapper is not None else None
