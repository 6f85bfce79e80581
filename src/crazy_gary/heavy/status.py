"""Orchestration and step statuses: plain values (no database), shared by the ORM, the API
schemas and the client."""

from __future__ import annotations

from enum import StrEnum


class OrchestrationStatus(StrEnum):
    """An orchestration's status; the values are the API's and the column's."""

    STARTED = "started"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"


class StepStatus(StrEnum):
    """An orchestration step's status; the values are the API's and the column's."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


TERMINAL_ORCHESTRATION = (OrchestrationStatus.COMPLETED, OrchestrationStatus.FAILED,
                          OrchestrationStatus.TIMEOUT, OrchestrationStatus.CANCELLED)
ORCHESTRATION_ACTIVE = (OrchestrationStatus.STARTED, OrchestrationStatus.RUNNING)
TERMINAL_STEP = (StepStatus.COMPLETED, StepStatus.FAILED, StepStatus.SKIPPED,
                 StepStatus.CANCELLED)
