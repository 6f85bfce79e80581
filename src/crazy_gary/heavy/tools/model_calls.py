"""The model calls of heavy mode's own tools (question planning, synthesis, `llm_generate`),
metered like an agent's: refused once the user's monthly quota is used up, and billed to
the user (a `usage_records` row without a task, the month's counter, the 80 % warning) as
soon as the model has answered."""

from __future__ import annotations

from typing import Any

from crazy_gary.agent.pricing import estimate_cost
from crazy_gary.config import get_settings
from crazy_gary.db import session_scope, thread_transaction, utcnow
from crazy_gary.heavy.tools.base import ToolContext, ToolError
from crazy_gary.llm import service as llm
from crazy_gary.llm.types import ChatResult
from crazy_gary.usage import ledger
from crazy_gary.usage import quota as usage_quota


async def ask_model(ctx: ToolContext, model: str, messages: list[dict[str, Any]], *,
                    allow_fallback: bool = True) -> ChatResult:
    """Ask a model for the user running the tool. ToolError when their quota is used up
    (nothing is sent); the model's own failures raise as from `llm.chat`."""
    async with session_scope() as session:
        refused = await usage_quota.refusal(session, ctx.user_id)
    if refused is not None:
        raise ToolError(refused.message)
    result = await llm.chat(model, messages, allow_fallback=allow_fallback)
    await _bill(ctx.user_id, result, model)
    return result


async def _bill(user_id: int, result: ChatResult, asked: str) -> None:
    served = result.model or asked
    prompt = int(result.usage.prompt_tokens or 0)
    completion = int(result.usage.completion_tokens or 0)
    cost = estimate_cost(get_settings(), served, prompt, completion)
    at = utcnow()
    await thread_transaction(lambda session: ledger.add(
        session, user_id=user_id, task_id=None, step_kind="model", model=served,
        prompt_tokens=prompt, completion_tokens=completion, cost_usd=cost, at=at))
