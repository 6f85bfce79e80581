"""Plain values of the schedules domain (no database): overlap policies and run outcomes."""

from __future__ import annotations

from enum import StrEnum


class Overlap(StrEnum):
    """What a tick does while the schedule's previous task is still unfinished."""

    SKIP = "skip"    # record the tick as skipped, create nothing
    QUEUE = "queue"  # create the task now, start it once the previous one ended
    ALLOW = "allow"  # start it at once, beside the previous one


class RunStatus(StrEnum):
    """The outcome of one tick (or one run-now)."""

    FIRED = "fired"
    SKIPPED = "skipped"
    QUEUED = "queued"


class Trigger(StrEnum):
    TICK = "tick"
    MANUAL = "manual"
