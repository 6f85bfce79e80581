"""Cron expressions and time zones, read exactly as the durable engine's scheduler reads
them (croniter, seconds first when there are six fields), so `next_run_at` is the tick
the engine will fire."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from croniter import croniter

MAX_ZONE_LENGTH = 64


def check_cron(expression: str) -> str:
    """The expression, stripped; ValueError saying why when the engine could not run it."""
    expression = " ".join(expression.split())
    fields = len(expression.split(" ")) if expression else 0
    if fields not in (5, 6):
        raise ValueError(f"must have 5 fields (minute hour day month weekday) or 6 with "
                         f"seconds first; got {fields}")
    try:
        croniter(expression, datetime.now(UTC), second_at_beginning=True)
    except Exception as exc:  # croniter's own errors are ValueErrors; odd input raises others
        raise ValueError(f"invalid cron expression: {exc}") from None
    try:
        next_tick(expression, "UTC")
    except ValueError:
        raise ValueError("the expression never fires (no such date)") from None
    return expression


def zone(name: str) -> ZoneInfo:
    """The IANA zone; ValueError when there is no such zone."""
    if not name or len(name) > MAX_ZONE_LENGTH or name != name.strip():
        raise ValueError(f"unknown time zone {name!r} (an IANA name such as Europe/Paris)")
    try:
        return ZoneInfo(name)
    except Exception:  # ZoneInfoNotFoundError, or ValueError for a path-like key
        raise ValueError(
            f"unknown time zone {name!r} (an IANA name such as Europe/Paris)") from None


def next_tick(expression: str, timezone: str, after: datetime | None = None) -> datetime:
    """The first tick strictly after `after` (default now), in UTC."""
    tz = zone(timezone)
    start = (after or datetime.now(UTC)).astimezone(tz)
    try:
        tick: datetime = croniter(expression, start, second_at_beginning=True).get_next(datetime)
    except Exception as exc:  # CroniterBadDateError: never fires
        raise ValueError(str(exc)) from None
    return tick.astimezone(UTC)


def last_tick(expression: str, timezone: str, at: datetime | None = None) -> datetime:
    """The latest tick at or before `at` (default now), in the schedule's zone (the form
    the engine names its tick workflows by)."""
    tz = zone(timezone)
    start = (at or datetime.now(UTC)).astimezone(tz)
    tick: datetime = croniter(expression, start, second_at_beginning=True).get_prev(datetime)
    return tick
