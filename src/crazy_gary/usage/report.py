"""Reading usage: totals and groups (by day, model, tool or user) from the ledger."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, case, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crazy_gary.usage.models import UsageRecord

GroupBy = Literal["day", "model", "tool", "user"]

_KEYS: dict[str, Any] = {"day": UsageRecord.day, "model": UsageRecord.model,
                         "tool": UsageRecord.tool, "user": UsageRecord.user_id}


def _measures() -> list[ColumnElement[Any]]:
    return [
        func.coalesce(func.sum(UsageRecord.prompt_tokens), 0).label("prompt_tokens"),
        func.coalesce(func.sum(UsageRecord.completion_tokens), 0).label("completion_tokens"),
        func.coalesce(func.sum(UsageRecord.cost_usd), 0.0).label("cost_usd"),
        func.count(distinct(UsageRecord.task_id)).label("tasks"),
        func.coalesce(func.sum(case((UsageRecord.kind == "model", 1), else_=0)), 0)
        .label("model_calls"),
        func.coalesce(func.sum(case((UsageRecord.kind == "tool", 1), else_=0)), 0)
        .label("tool_calls"),
    ]


def _figures(row: Any) -> dict[str, Any]:
    prompt, completion = int(row.prompt_tokens), int(row.completion_tokens)
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion, "cost_usd": round(float(row.cost_usd), 9),
            "tasks": int(row.tasks), "model_calls": int(row.model_calls),
            "tool_calls": int(row.tool_calls)}


async def usage(session: AsyncSession, *, user_id: int | None, start: datetime,
                end: datetime, group_by: GroupBy | None) -> dict[str, Any]:
    """Totals over [start, end) for one user (None: everyone), and per group when asked.
    Model calls have no tool and tool calls no model: they group under `null`."""
    where = [UsageRecord.at >= start, UsageRecord.at < end]
    if user_id is not None:
        where.append(UsageRecord.user_id == user_id)
    totals = (await session.execute(select(*_measures()).where(*where))).one()
    groups: list[dict[str, Any]] = []
    if group_by is not None:
        key = _KEYS[group_by]
        rows = (await session.execute(
            select(key.label("key"), *_measures()).where(*where).group_by(key))).all()
        for row in rows:
            groups.append({"key": None if row.key is None else str(row.key), **_figures(row)})
        groups.sort(key=lambda g: (g["key"] is None, _order(group_by, g["key"])))
    return {"totals": _figures(totals), "groups": groups}


def _order(group_by: str, key: str | None) -> Any:
    if key is None:
        return ""
    return int(key) if group_by == "user" else key
