"""Usage and quota actions behind the routes (the request's session commits)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crazy_gary.auth.principal import SignedInUser
from crazy_gary.auth.service import get_user
from crazy_gary.db import utcnow
from crazy_gary.errors import InsufficientPermissions, NotFound, ValidationFailed
from crazy_gary.usage import quota, report
from crazy_gary.usage.report import GroupBy
from crazy_gary.usage.schemas import QuotaRead, QuotaUsed, UsageReport


async def _existing(session: AsyncSession, user_id: int) -> None:
    if await get_user(session, user_id) is None:
        raise NotFound("User not found")


async def usage_report(session: AsyncSession, *, actor: SignedInUser, start: datetime | None,
                       end: datetime | None, group_by: GroupBy | None, user_id: int | None,
                       scope: str) -> UsageReport:
    """The caller's usage; an admin's choice of user (`user_id`) or everyone (`scope=all`)."""
    if (scope == "all" or (user_id is not None and user_id != actor.id)) \
            and not actor.is_admin:
        raise InsufficientPermissions("Only administrators see other users' usage")
    if scope == "all" and user_id is not None:
        raise ValidationFailed("Give either user_id or scope=all, not both")
    now = utcnow()
    start = start or datetime(now.year, now.month, 1, tzinfo=UTC)
    end = end or now
    if start > end:
        raise ValidationFailed("from must not be after to")
    counted: int | None = None if scope == "all" else (user_id or actor.id)
    if counted is not None and counted != actor.id:
        await _existing(session, counted)
    figures = await report.usage(session, user_id=counted, start=start, end=end,
                                 group_by=group_by)
    return UsageReport.model_validate({"from": start, "to": end, "user_id": counted,
                                       "group_by": group_by, **figures})


async def quota_of(session: AsyncSession, *, user_id: int, known: bool = False) -> QuotaRead:
    """A user's limits and this month's use (`known`: the user is the caller)."""
    if not known:
        await _existing(session, user_id)
    standing = await quota.standing(session, user_id)
    return QuotaRead(
        user_id=user_id, monthly_tokens=standing.monthly_tokens,
        monthly_cost_usd=standing.monthly_cost_usd,
        used=QuotaUsed(tokens=standing.tokens, cost_usd=round(standing.cost_usd, 9)),
        period=standing.period, resets_at=standing.resets_at,
        exceeded=[name for name, _used, _limit in standing.reached()])


async def set_quota(session: AsyncSession, *, user_id: int, changes: dict[str, Any]
                    ) -> QuotaRead:
    """Set a user's monthly limits (admins); answers the new standing."""
    await _existing(session, user_id)
    await quota.set_limits(session, user_id=user_id, changes=changes)
    return await quota_of(session, user_id=user_id, known=True)
