"""Task statuses, phases and priorities: plain values (no database), shared by the ORM, the API
schemas and the client."""

from __future__ import annotations

from enum import StrEnum


class TaskStatus(StrEnum):
    """A task's status; the values are the API's and the `tasks.status` column's."""

    CREATED = "created"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    STOPPED = "stopped"

    @property
    def is_final(self) -> bool:
        return self in FINAL


UNFINISHED = (TaskStatus.CREATED, TaskStatus.RUNNING)
FINAL = (TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.STOPPED)
PHASES = ("queued", "planning", "acting", "waiting_for_model")
PRIORITIES = ("low", "medium", "high", "critical")
