"""The streaming chat turn: the answer goes out token by token as Server-Sent Events.

A streamed turn is recorded as a chat task like any other, but runs in the request
(not as a durable workflow) and offers no tools: its point is the first token fast.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi.sse import format_sse_event

from crazy_gary.agent import prompts
from crazy_gary.agent.pricing import estimate_cost
from crazy_gary.config import Settings
from crazy_gary.errors import AppError
from crazy_gary.tasks import state


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return format_sse_event(data_str=json.dumps(data), event=event)


async def stream_turn(task_id: str, conversation_id: str, settings: Settings,
                      ) -> AsyncIterator[bytes]:
    """Yield `start`, many `token`, then `done` (or `error`) events for one chat turn."""
    from crazy_gary.llm import service as llm

    spec = await state.begin(task_id)
    if spec is None:
        yield _sse("error", {"code": "TASK_NOT_FOUND",
                                                   "message": "The turn is gone"})
        return
    yield _sse("start", {"task_id": task_id,
                                               "conversation_id": conversation_id})
    await state.set_phase(task_id, "acting")
    messages = prompts.task_messages(spec)
    started = time.perf_counter()
    final: Any = None
    finished = False
    try:
        async with asyncio.timeout(settings.chat_timeout_seconds):
            async for item in llm.stream_chat(spec["model"], messages):
                if isinstance(item, llm.ChatChunk):
                    if item.delta:
                        yield _sse("token", {"delta": item.delta})
                else:
                    final = item
        usage = final.usage
        await state.record_step(
            task_id, 0, kind="model", model=final.model, output=final.content,
            prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens,
            cost_usd=estimate_cost(settings, final.model or spec["model"], usage.prompt_tokens,
                                   usage.completion_tokens),
            latency_ms=(time.perf_counter() - started) * 1000, progress=90)
        await state.finish(task_id, status="completed", answer=final.content or "",
                           answered_by=final.model)
        finished = True
        yield _sse("done", {
            "response": final.content or "", "task_id": task_id,
            "conversation_id": conversation_id, "model": final.model,
            "usage": {"prompt_tokens": usage.prompt_tokens,
                      "completion_tokens": usage.completion_tokens}})
    except TimeoutError:
        error = {"code": "TASK_TIMEOUT", "message": "The model did not finish in time"}
        await state.finish(task_id, status="failed", error=error)
        finished = True
        yield _sse("error", error)
    except AppError as exc:
        error = {"code": exc.code, "message": exc.message}
        await state.finish(task_id, status="failed", error=error)
        finished = True
        yield _sse("error", error)
    finally:
        if not finished:  # the client went away mid-answer
            await asyncio.shield(state.finish(task_id, status="stopped"))
