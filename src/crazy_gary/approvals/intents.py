"""The intent log of `write` tool calls: the crash contract's memory.

Before a write call starts, its step writes (task, seq, attempt) here in its own committed
transaction. If the process dies during the call, the engine re-runs the step on
recovery; the step then finds its intent already written and knows the call may have
reached the tool, so it does not run it again on its own (the loop asks a person:
`interrupted`). A step that never got as far as the intent runs normally.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crazy_gary.approvals.models import ToolIntent
from crazy_gary.db import session_scope


async def begin(task_id: str, seq: int, attempt: int, tool: str) -> bool:
    """Record the intent; False when it was already recorded (the call had started)."""
    async with session_scope() as session:
        found = await session.scalar(select(ToolIntent.id).where(
            ToolIntent.task_id == task_id, ToolIntent.seq == seq, ToolIntent.attempt == attempt))
        if found is not None:
            return False
        session.add(ToolIntent(task_id=task_id, seq=seq, attempt=attempt, tool=tool[:200]))
    return True


async def carry_over(session: AsyncSession, *, from_task: str, to_task: str,
                     from_seq: int) -> None:
    """A retry runs the original's calls from `from_seq` on as its own: their intents go
    with them, so a write call a crash cut off is still put to a person, not run again."""
    rows = await session.scalars(select(ToolIntent).where(
        ToolIntent.task_id == from_task, ToolIntent.seq >= from_seq))
    session.add_all(ToolIntent(task_id=to_task, seq=row.seq, attempt=row.attempt,
                               tool=row.tool, started_at=row.started_at) for row in rows)
