"""Schedules: create, list, get, change, delete, run now, runs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from crazy_gary.client.core import Core
from crazy_gary.client.models import Page, RunStarted, ScheduleRead, ScheduleRunRead


class SchedulesArea:
    def __init__(self, core: Core) -> None:
        self._core = core

    async def create(self, name: str, cron: str, task: dict[str, Any], *,
                     timezone: str = "UTC", overlap: str = "skip", enabled: bool = True,
                     catch_up: bool = False) -> ScheduleRead:
        """`task`: the fields of a task (title, description, model, priority, limits, tools)."""
        body = {"name": name, "cron": cron, "timezone": timezone, "task": task,
                "overlap": overlap, "enabled": enabled, "catch_up": catch_up}
        return await self._core.call("POST", "/api/schedules", ScheduleRead, json=body)

    async def get(self, schedule_id: str) -> ScheduleRead:
        return await self._core.call("GET", f"/api/schedules/{schedule_id}", ScheduleRead)

    async def list(self, *, limit: int = 50, offset: int = 0) -> Page[ScheduleRead]:
        return await self._core.page("/api/schedules", ScheduleRead, limit=limit, offset=offset)

    def iter(self, *, page_size: int = 50) -> AsyncIterator[ScheduleRead]:
        return self._core.pages("/api/schedules", ScheduleRead, page_size=page_size)

    async def update(self, schedule_id: str, **changes: Any) -> ScheduleRead:
        """Change the fields given (name, cron, timezone, task, overlap, enabled, catch_up)."""
        return await self._core.call("PATCH", f"/api/schedules/{schedule_id}", ScheduleRead,
                                     json=changes)

    async def delete(self, schedule_id: str) -> None:
        await self._core.request("DELETE", f"/api/schedules/{schedule_id}")

    async def run(self, schedule_id: str) -> RunStarted:
        """Create and start the schedule's task now."""
        return await self._core.call("POST", f"/api/schedules/{schedule_id}/run", RunStarted)

    async def runs(self, schedule_id: str, *, limit: int = 50,
                   offset: int = 0) -> Page[ScheduleRunRead]:
        return await self._core.page(f"/api/schedules/{schedule_id}/runs", ScheduleRunRead,
                                     limit=limit, offset=offset)
