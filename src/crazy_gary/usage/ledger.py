"""Writing usage: one ledger row per model call or tool call, the month's counter row, and
the 80 % `quota_warning`, all in the caller's transaction (the one recording the step, a
synchronous session run by `db.thread_transaction`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from crazy_gary.kit.clock import iso
from crazy_gary.kit.dml import rows_changed_now
from crazy_gary.realtime import record
from crazy_gary.usage.models import UsageCounter, UsageRecord, UserQuota
from crazy_gary.usage.quota import (
    COST,
    TOKENS,
    WARN_FRACTION,
    period_of,
    resets_at,
)

KINDS = {"plan": "model", "model": "model", "tool": "tool"}


def add(
    session: Session,
    *,
    user_id: int,
    task_id: str | None,
    step_kind: str,
    model: str | None = None,
    tool: str | None = None,
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    cost_usd: float = 0.0,
    at: datetime,
) -> None:
    """Bill one model call (`plan`/`model` step) or tool call (`tool` step) to the user."""
    kind = KINDS.get(step_kind)
    if kind is None:
        return
    session.execute(_RECORD_INSERT, dict(
        user_id=user_id, task_id=task_id, kind=kind, model=model if kind == "model" else None,
        tool=tool if kind == "tool" else None, prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens, cost_usd=cost_usd, day=at.date().isoformat(),
        at=at))
    tokens = prompt_tokens + completion_tokens
    if tokens or cost_usd:
        _count(session, user_id=user_id, period=period_of(at), tokens=tokens,
               cost_usd=cost_usd, at=at)


def _counter_upsert(insert: Any) -> Any:
    """Add to the month's counter; returns the new totals with the user's limits (read in
    the same statement: one round trip fewer per billed call)."""
    statement = insert(UsageCounter.__table__)
    table = UsageCounter.__table__.c
    limits = [select(limit).where(UserQuota.user_id == bindparam("owner")).scalar_subquery()
              .label(limit.key) for limit in (UserQuota.monthly_tokens,
                                              UserQuota.monthly_cost_usd)]
    return (statement.on_conflict_do_update(
        index_elements=["user_id", "period"],
        set_={"tokens": table.tokens + statement.excluded.tokens,
              "cost_usd": table.cost_usd + statement.excluded.cost_usd})
        .returning(table.tokens, table.cost_usd, table.tokens_warned, table.cost_warned,
                   *limits))


# Built once: constructing these statements (and their cache keys) per step cost more CPU
# than running them.
_RECORD_INSERT = insert(cast(Table, UsageRecord.__table__))
_COUNTER_UPSERT = {"postgresql": _counter_upsert(pg_insert),
                   "sqlite": _counter_upsert(sqlite_insert)}


def _count(session: Session, *, user_id: int, period: str, tokens: int,
           cost_usd: float, at: datetime) -> None:
    """Add to the month's counter; warn once per limit when it passes 80 %."""
    totals = session.execute(_COUNTER_UPSERT[session.get_bind().dialect.name], dict(
        user_id=user_id, owner=user_id, period=period, tokens=tokens, cost_usd=cost_usd,
        tokens_warned=False, cost_warned=False)).one()
    limits = ((TOKENS, totals.monthly_tokens, totals.tokens, totals.tokens_warned,
               "tokens_warned"),
              (COST, totals.monthly_cost_usd, totals.cost_usd, totals.cost_warned,
               "cost_warned"))
    for name, limit, used, warned, flag in limits:
        if limit is None or warned or used < WARN_FRACTION * limit:
            continue
        # Conditional: two steps crossing 80 % at once send one warning between them.
        won = rows_changed_now(session, update(UsageCounter).where(
            UsageCounter.user_id == user_id, UsageCounter.period == period,
            getattr(UsageCounter, flag).is_(False)).values({flag: True})
            .execution_options(synchronize_session=False))
        if won == 1:
            record(session, "quota_warning",
                   _warning(user_id, name, used, limit, period, at), user_id=user_id)


def _warning(user_id: int, name: str, used: float, limit: float, period: str,
             at: datetime) -> dict[str, Any]:
    return {"user_id": str(user_id), "quota": name,
            "used": round(used, 6) if name == COST else used, "limit": limit,
            "percent": round(100 * used / limit, 1) if limit else 100.0,
            "period": period, "resets_at": iso(resets_at(at))}
