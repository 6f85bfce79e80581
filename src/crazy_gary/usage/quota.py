"""Monthly limits per user: the check on the task-create and model-call paths, and what
`GET /api/auth/me/quota` shows.

The check is one primary-key read (the user's limits joined with this month's counter
row); a user without limits costs one lookup that finds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from crazy_gary.db import utcnow
from crazy_gary.errors import UsageQuotaExceeded
from crazy_gary.kit.clock import iso
from crazy_gary.kit.unit_of_work import in_async_session
from crazy_gary.usage.models import UsageCounter, UserQuota

WARN_FRACTION = 0.8
TOKENS, COST = "monthly_tokens", "monthly_cost_usd"


def period_of(at: datetime) -> str:
    """The UTC month a moment counts against: YYYY-MM."""
    at = at.astimezone(UTC)
    return f"{at.year:04d}-{at.month:02d}"


def resets_at(at: datetime) -> datetime:
    """The start of the next UTC month, when the counters start again from zero."""
    at = at.astimezone(UTC)
    year, month = (at.year + 1, 1) if at.month == 12 else (at.year, at.month + 1)
    return datetime(year, month, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Standing:
    """A user's limits (None: unlimited) and what this month has used."""

    monthly_tokens: int | None
    monthly_cost_usd: float | None
    tokens: int
    cost_usd: float
    period: str
    resets_at: datetime

    def reached(self) -> list[tuple[str, float, float]]:
        """(limit, used, limit value) for each limit used up."""
        out: list[tuple[str, float, float]] = []
        if self.monthly_tokens is not None and self.tokens >= self.monthly_tokens:
            out.append((TOKENS, self.tokens, self.monthly_tokens))
        if self.monthly_cost_usd is not None and self.cost_usd >= self.monthly_cost_usd:
            out.append((COST, round(self.cost_usd, 6), self.monthly_cost_usd))
        return out

    def refusal(self) -> UsageQuotaExceeded | None:
        """The 429 error for a limit reached, with which limit, used, limit and resets_at."""
        reached = self.reached()
        if not reached:
            return None
        name, used, limit = reached[0]
        what = "token" if name == TOKENS else "cost"
        details: dict[str, Any] = {"quota": name, "used": used, "limit": limit,
                                   "resets_at": iso(self.resets_at)}
        return UsageQuotaExceeded(
            f"Monthly {what} quota reached: used {used} of {limit}; "
            f"it resets at {iso(self.resets_at)}", details=details)


StandingQuery = Select[int | None, float | None, int, float]


def standing_query(owner: ColumnElement[int]) -> StandingQuery:
    """The limits of the user `owner` finds (a bound `user_id`, or a scalar subquery such as
    a task's owner) joined with the counter of the bound `period`: one indexed read. Build
    it once: constructing a statement costs more than running this one."""
    return (select(UserQuota.monthly_tokens, UserQuota.monthly_cost_usd,
                   UsageCounter.tokens, UsageCounter.cost_usd)
            .select_from(UserQuota)
            .outerjoin(UsageCounter, and_(UsageCounter.user_id == UserQuota.user_id,
                                          UsageCounter.period == bindparam("period")))
            .where(UserQuota.user_id == owner))


_OF_USER = standing_query(bindparam("user_id"))


def _limited(session: Session, query: StandingQuery, params: dict[str, Any],
             now: datetime) -> Standing | None:
    """The user's limits and this month's use; None when the user has no limits."""
    period = period_of(now)
    row = session.execute(query, {**params, "period": period}).first()
    if row is None:
        return None
    return Standing(row.monthly_tokens, row.monthly_cost_usd, int(row.tokens or 0),
                    float(row.cost_usd or 0.0), period, resets_at(now))


async def standing(session: AsyncSession, user_id: int) -> Standing:
    """Limits (None: unlimited) and this month's use."""
    now = utcnow()
    limited = await session.run_sync(_limited, _OF_USER, {"user_id": user_id}, now)
    if limited is not None:
        return limited
    counter = await session.get(UsageCounter, (user_id, period_of(now)))
    return Standing(None, None, counter.tokens if counter else 0,
                    counter.cost_usd if counter else 0.0, period_of(now), resets_at(now))


def refusal_by(session: Session, query: StandingQuery, params: dict[str, Any]
               ) -> UsageQuotaExceeded | None:
    """Why the user `query` (a `standing_query`) finds may not spend more this month, or
    None."""
    limited = _limited(session, query, params, utcnow())
    return limited.refusal() if limited is not None else None


def refusal_now(session: Session, user_id: int) -> UsageQuotaExceeded | None:
    """Why this user may not spend more this month, or None: one indexed read."""
    return refusal_by(session, _OF_USER, {"user_id": user_id})


def ensure_within_now(session: Session, user_id: int) -> None:
    """Raise 429 QUOTA_EXCEEDED when a monthly limit of the user is used up."""
    refused = refusal_now(session, user_id)
    if refused is not None:
        raise refused


refusal = in_async_session(refusal_now)
ensure_within = in_async_session(ensure_within_now)


def limits_now(session: Session, user_id: int) -> UserQuota | None:
    """The user's limits row (one unique-index read), if an admin ever set one."""
    return session.scalar(select(UserQuota).where(UserQuota.user_id == user_id))


limits_of = in_async_session(limits_now)


async def set_limits(session: AsyncSession, *, user_id: int,
                     changes: dict[str, Any]) -> None:
    """Set the given limits (None: unlimited); limits not named keep their value."""
    quota = await limits_of(session, user_id)
    if quota is None:
        quota = UserQuota(user_id=user_id, monthly_tokens=None, monthly_cost_usd=None)
        session.add(quota)
    for name in (TOKENS, COST):
        if name in changes:
            setattr(quota, name, changes[name])
    quota.updated_at = utcnow()
    await session.flush()
