"""The checkpointed steps of an agent task: each model call and each tool call is one.

A step both does the outside call and records it on the task (idempotently, by
sequence number), so a step re-run after a crash records nothing twice. Model and
tool steps are preemptible: a stop cancels them within about a second.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from dbos import DBOS

from crazy_gary.agent import tools as agent_tools
from crazy_gary.agent.pricing import estimate_cost
from crazy_gary.config import get_settings
from crazy_gary.errors import AppError
from crazy_gary.observability.metrics import AGENT_STEPS
from crazy_gary.tasks import state

log = logging.getLogger(__name__)


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


@DBOS.step(name="agent.begin")
async def begin_step(task_id: str) -> dict[str, Any] | None:
    return await state.begin(task_id)


@DBOS.step(name="agent.select_tools")
async def select_tools_step(user_id: int, query: str, allow: list[str] | None) -> dict[str, Any]:
    """The tools offered for this task (fixed for the task's life, so replays agree)."""
    from crazy_gary.toolhub import get_hub

    settings = get_settings()
    hub = get_hub()
    await _settle(hub, None, settings.task_tools_startup_wait_seconds)
    try:
        listed = [agent_tools.describe(t) for t in await _maybe_await(hub.list_tools())]
    except Exception:  # a broken MCP server must not sink the task
        log.exception("listing tools failed; continuing without tools")
        return agent_tools.toolset([])
    listed = [t for t in listed if t["name"] and agent_tools.allowed(t, allow)]
    if len(listed) > settings.task_tool_search_threshold:
        try:
            found = await _maybe_await(hub.search(query, settings.task_tool_search_threshold))
            chosen = [agent_tools.describe(t) for t in found]
            listed = [t for t in chosen if t["name"] and agent_tools.allowed(t, allow)] or \
                listed[: settings.task_tool_search_threshold]
        except Exception:
            log.exception("tool search failed; offering the first tools")
            listed = listed[: settings.task_tool_search_threshold]
    return agent_tools.toolset(listed)


async def _settle(hub: Any, client: str | None, wait: float) -> None:
    """Give MCP servers that are still starting (e.g. right after a restart) time to connect."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        connections = getattr(hub, "connections", {}) or {}
        pending = [c for name, c in connections.items()
                   if (client is None or name == client)
                   and getattr(c, "status", None) == "connecting"]
        if not pending:
            return
        await asyncio.sleep(0.1)


async def _maybe_await(value: Any) -> Any:
    if asyncio.iscoroutine(value) or isinstance(value, asyncio.Future):
        return await value
    return value


@DBOS.step(name="agent.model_call", preemptible=True)
async def model_step(
    task_id: str,
    seq: int,
    *,
    model: str,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]] | None,
    deadline: float,
    kind: str,
    progress: int,
) -> dict[str, Any]:
    """One model call; returns content, tool calls, usage (or an error code)."""
    from crazy_gary.llm import service as llm

    remaining = deadline - time.time()
    if remaining <= 0:
        return _error("TASK_TIMEOUT", "The task ran past its wall-clock limit")
    await state.set_phase(task_id, "planning" if kind == "plan" else "acting")

    waited = False

    async def on_wait(reason: Any = None, *_args: Any, **_kwargs: Any) -> None:
        nonlocal waited
        waited = True
        text = str(reason or "waking the model endpoint").removeprefix("waiting_for_model:")
        await state.set_phase(task_id, "waiting_for_model", text.strip()[:500])

    started = time.perf_counter()
    try:
        result = await asyncio.wait_for(
            llm.chat(model, messages, tools=tools or None, on_wait=on_wait), timeout=remaining)
    except TimeoutError:
        return _error("TASK_TIMEOUT", "The task ran past its wall-clock limit")
    except AppError as exc:
        code = exc.code if exc.code != "INTERNAL_ERROR" else "MODEL_ERROR"
        return _error(code, exc.message)
    except Exception as exc:  # the model server misbehaved in a way the client did not map
        log.warning("model call failed for %s: %s", task_id, exc)
        return _error("MODEL_ERROR", f"Model call failed: {type(exc).__name__}")
    latency_ms = (time.perf_counter() - started) * 1000
    if waited:  # the endpoint is up again: back to work
        await state.set_phase(task_id, "planning" if kind == "plan" else "acting")
    usage = result.usage
    prompt, completion = int(usage.prompt_tokens or 0), int(usage.completion_tokens or 0)
    cost = estimate_cost(get_settings(), result.model or model, prompt, completion)
    calls = [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in result.tool_calls]
    await state.record_step(
        task_id, seq, kind=kind, model=result.model, output=result.content,
        arguments=calls or None, prompt_tokens=prompt, completion_tokens=completion,
        cost_usd=cost, latency_ms=latency_ms, progress=progress)
    AGENT_STEPS.labels(kind=kind).inc()
    return {
        "content": result.content, "reasoning": result.reasoning, "tool_calls": calls,
        "total_tokens": prompt + completion, "model": result.model,
        "fell_back": bool(getattr(result, "fell_back", False)),
    }


@DBOS.step(name="agent.tool_call", preemptible=True)
async def tool_step(
    task_id: str,
    seq: int,
    *,
    user_id: int,
    call: dict[str, Any],
    index: dict[str, Any],
    deadline: float,
    progress: int,
) -> dict[str, Any]:
    """One tool call through the hub; malformed calls come back as an error text."""
    settings = get_settings()
    checked = agent_tools.check_call(call["name"], call.get("arguments"), index)
    shown_name = f"{checked.client}.{checked.tool}" if checked.tool else call["name"]
    started = time.perf_counter()
    if checked.error:
        outcome, content = "invalid_call", checked.error
    elif deadline - time.time() <= 0:
        return _error("TASK_TIMEOUT", "The task ran past its wall-clock limit")
    else:
        from crazy_gary.toolhub import get_hub

        timeout = min(settings.task_tool_timeout_seconds, max(1.0, deadline - time.time()))
        await _settle(get_hub(), checked.client, min(timeout, 15.0))
        try:
            result = await get_hub().execute(checked.client, checked.tool, checked.params,
                                              user_id=user_id, timeout=timeout)
            if result.success:
                outcome, content = "ok", agent_tools.render_result(result.result)
            else:
                outcome = "error"
                content = f"Error from {shown_name}: {result.error}"
        except AppError as exc:
            outcome, content = "error", f"Error from {shown_name}: {exc.message}"
        except Exception as exc:
            log.warning("tool %s failed in %s: %s", shown_name, task_id, exc)
            outcome, content = "error", f"Error from {shown_name}: {type(exc).__name__}: {exc}"
    content = agent_tools.truncate(content, settings.task_tool_result_chars)
    await state.record_step(
        task_id, seq, kind="tool", name=shown_name,
        arguments=checked.params if checked.params is not None else call.get("arguments"),
        outcome=outcome, output=content[:4000],
        latency_ms=(time.perf_counter() - started) * 1000, progress=progress)
    AGENT_STEPS.labels(kind="tool").inc()
    return {"content": content, "outcome": outcome}


@DBOS.step(name="agent.save_plan")
async def save_plan_step(task_id: str, plan: list[str], progress: int) -> None:
    await state.save_plan(task_id, plan, progress)


@DBOS.step(name="agent.finish")
async def finish_step(task_id: str, status: str, answer: str | None, answered_by: str | None,
                      error: dict[str, str] | None) -> str:
    await state.set_phase(task_id, "finishing")
    return await state.finish(task_id, status=status, answer=answer, answered_by=answered_by,
                              error=error)
