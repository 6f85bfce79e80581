"""The streaming chat turn: the answer goes out token by token as Server-Sent Events.

A streamed turn is recorded as a chat task like any other, through the same task state
service (`agent.steps.task_store()`), but runs in the request (not as a durable
workflow) and offers no tools: its point is the first token fast.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from crazy_gary.agent import prompts
from crazy_gary.agent.ports import Failure
from crazy_gary.agent.pricing import estimate_cost
from crazy_gary.agent.steps import task_store
from crazy_gary.config import Settings
from crazy_gary.errors import AppError
from crazy_gary.kit.sse import frame
from crazy_gary.llm import service as llm
from crazy_gary.llm.types import ChatResult
from crazy_gary.tasks.status import TaskStatus


async def stream_turn(task_id: str, conversation_id: str, settings: Settings,
                      ) -> AsyncIterator[bytes]:
    """Yield `start`, many `token`, then `done` (or `error`) events for one chat turn."""
    store = task_store()
    spec = await store.begin(task_id)
    if spec is None:
        yield frame({"code": "TASK_NOT_FOUND", "message": "The turn is gone"}, event="error")
        return
    yield frame({"task_id": task_id, "conversation_id": conversation_id}, event="start")
    await store.set_phase(task_id, "acting")
    messages = prompts.task_messages(spec)
    started = time.perf_counter()
    final: ChatResult | None = None
    failure: Failure | None = None
    finished = False
    try:
        try:
            async with asyncio.timeout(settings.chat_timeout_seconds):
                async for item in llm.stream_chat(spec.model, messages):
                    if isinstance(item, ChatResult):
                        final = item
                    elif item.delta:
                        yield frame({"delta": item.delta}, event="token")
        except TimeoutError:
            failure = Failure("TASK_TIMEOUT", "The model did not finish in time")
        except AppError as exc:
            failure = Failure(exc.code, exc.message)
        if final is None:
            failure = failure or Failure("MODEL_ERROR", "The model sent no answer")
        if failure is not None:
            await store.finish(task_id, status=TaskStatus.FAILED, error=failure.as_error())
            finished = True
            yield frame(failure.as_error(), event="error")
            return
        assert final is not None
        usage = final.usage
        await store.record_step(
            task_id, 0, kind="model", model=final.model, output=final.content,
            prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens,
            cost_usd=estimate_cost(settings, final.model or spec.model, usage.prompt_tokens,
                                   usage.completion_tokens),
            latency_ms=(time.perf_counter() - started) * 1000, progress=90)
        await store.finish(task_id, status=TaskStatus.COMPLETED, answer=final.content or "",
                           answered_by=final.model)
        finished = True
        yield frame({
            "response": final.content or "", "task_id": task_id,
            "conversation_id": conversation_id, "model": final.model,
            "usage": {"prompt_tokens": usage.prompt_tokens,
                      "completion_tokens": usage.completion_tokens}}, event="done")
    finally:
        if not finished:  # the client went away mid-answer
            await asyncio.shield(store.finish(task_id, status=TaskStatus.STOPPED))
