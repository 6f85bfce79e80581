"""Usage reports and monthly quotas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crazy_gary.client.core import Core
from crazy_gary.usage.schemas import QuotaRead, UsageReport


def _when(value: datetime | str | None) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value


class UsageArea:
    """What you (or, as an admin, anyone) spent, and the monthly limits."""

    def __init__(self, core: Core) -> None:
        self._core = core

    async def report(self, *, start: datetime | str | None = None,
                     end: datetime | str | None = None, group_by: str | None = None,
                     user_id: int | None = None, everyone: bool = False) -> UsageReport:
        """Tokens, cost, tasks, model and tool calls over [start, end) (default: this UTC
        month); `group_by` day, model, tool or user; `user_id`/`everyone` need an admin."""
        params: dict[str, Any] = {"from": _when(start), "to": _when(end), "group_by": group_by,
                                  "user_id": user_id, "scope": "all" if everyone else None}
        return await self._core.call("GET", "/api/usage", UsageReport,
                                     params={k: v for k, v in params.items() if v is not None})

    async def my_quota(self) -> QuotaRead:
        return await self._core.call("GET", "/api/auth/me/quota", QuotaRead)

    async def quota(self, user_id: int) -> QuotaRead:
        """A user's limits and use (admins)."""
        return await self._core.call("GET", f"/api/users/{user_id}/quota", QuotaRead)

    async def set_quota(self, user_id: int, **limits: int | float | None) -> QuotaRead:
        """Set `monthly_tokens` and/or `monthly_cost_usd` (None: unlimited) (admins)."""
        return await self._core.call("PUT", f"/api/users/{user_id}/quota", QuotaRead,
                                     json=limits)
