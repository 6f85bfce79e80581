"""The checkpointed steps of an agent task: each model call and each tool call is one.

A step both does the outside call and records it on the task (idempotently, by
sequence number), so a step re-run after a crash records nothing twice. Model and
tool steps are preemptible: a stop cancels them within about a second. The steps
reach their collaborators only through the ports in `agent.ports`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from dbos import DBOS

from crazy_gary.agent import prompts
from crazy_gary.agent import tools as agent_tools
from crazy_gary.agent.ports import (
    Failure,
    ModelPort,
    ModelTurn,
    TaskStore,
    ToolCallRequest,
    ToolOutcome,
    ToolPort,
    Toolset,
)
from crazy_gary.agent.pricing import estimate_cost
from crazy_gary.approvals import intents
from crazy_gary.config import get_settings
from crazy_gary.durable import held_call
from crazy_gary.errors import AppError, ValidationFailed
from crazy_gary.llm import service as llm_service
from crazy_gary.observability.metrics import AGENT_STEPS
from crazy_gary.tasks import state
from crazy_gary.tasks.schemas import TaskSpec
from crazy_gary.tasks.status import TaskStatus
from crazy_gary.toolhub import get_hub
from crazy_gary.toolhub.types import WRITE

log = logging.getLogger(__name__)

TIMED_OUT = Failure("TASK_TIMEOUT", "The task ran past its wall-clock limit")
INTERRUPTED = "interrupted"


def tool_port() -> ToolPort:
    """The process's tool hub."""
    return get_hub()


def model_port() -> ModelPort:
    """The process's model service."""
    return llm_service


def task_store() -> TaskStore:
    """The task state service (every task write goes through it)."""
    return state


@dataclass(frozen=True)
class Started:
    """What the task's first step returns: the task, and the tools offered to it."""

    spec: TaskSpec
    toolset: Toolset


@DBOS.step(name="agent.begin")
async def begin_step(task_id: str) -> Started | TaskSpec | None:
    """Mark the task running and choose its tools, in one checkpoint; None if it is not
    runnable. (Workflows started before this step chose the tools too recorded a bare
    TaskSpec here, then `agent.select_tools` and, after the plan, `agent.save_plan`: their
    replay takes that path again, see `loop.run`.)"""
    spec = await task_store().begin(task_id)
    if spec is None:
        return None
    return Started(spec, await _select_tools(spec))


@DBOS.step(name="agent.select_tools")
async def select_tools_step(spec: TaskSpec) -> Toolset:
    """The tool choice as its own step, replayed by workflows started before `begin_step`
    made it."""
    return await _select_tools(spec)


async def _select_tools(spec: TaskSpec) -> Toolset:
    """The tools offered for this task (fixed for the task's life, so replays agree)."""
    allow, query = spec.options.tools, spec.description[:2000]
    settings = get_settings()
    hub = tool_port()
    await _settle(hub, None, settings.task_tools_startup_wait_seconds)
    try:
        listed = [t for t in hub.list_tools() if t.name and agent_tools.allowed(t, allow)]
    except Exception:  # a broken MCP server must not sink the task
        log.exception("listing tools failed; continuing without tools")
        return Toolset()
    limit = settings.task_tool_search_threshold
    if len(listed) > limit:
        try:
            found = [t for t in hub.search(query, limit)
                     if t.name and agent_tools.allowed(t, allow)]
            listed = found or listed[:limit]
        except Exception:
            log.exception("tool search failed; offering the first tools")
            listed = listed[:limit]
    return agent_tools.toolset(listed)


async def _settle(hub: ToolPort, client: str | None, wait: float) -> None:
    """Give MCP servers that are still starting (e.g. right after a restart) time to connect.

    A short poll: connections run on the hub's own event loop, so there is no event
    this step (possibly on another loop) could wait on."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and hub.connecting(client):  # noqa: ASYNC110
        await asyncio.sleep(0.1)


def _phase_of(kind: str) -> str:
    return "planning" if kind == "plan" else "acting"


@held_call
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
    plan_progress: int | None = None,
) -> ModelTurn | Failure:
    """One model call; returns content, tool calls and usage, or why it failed. A plan
    call given `plan_progress` also records the plan it got, in the same write."""
    remaining = deadline - time.time()
    if remaining <= 0:
        return TIMED_OUT
    refused = await task_store().quota_refusal(task_id)
    if refused is not None:  # a monthly limit is used up: the task ends, keeping its result
        return Failure(refused.code, refused.message)
    await task_store().set_phase(task_id, _phase_of(kind))

    waited = False

    async def on_wait(reason: str | None = None) -> None:
        nonlocal waited
        waited = True
        text = str(reason or "waking the model endpoint").removeprefix("waiting_for_model:")
        await task_store().set_phase(task_id, "waiting_for_model", text.strip()[:500])

    started = time.perf_counter()
    try:
        result = await asyncio.wait_for(
            model_port().chat(model, messages, tools=tools or None, on_wait=on_wait),
            timeout=remaining)
    except TimeoutError:
        return TIMED_OUT
    except AppError as exc:
        return Failure(exc.code if exc.code != "INTERNAL_ERROR" else "MODEL_ERROR", exc.message)
    except Exception as exc:  # the model server misbehaved in a way the client did not map
        log.warning("model call failed for %s: %s", task_id, exc)
        return Failure("MODEL_ERROR", f"Model call failed: {type(exc).__name__}")
    latency_ms = (time.perf_counter() - started) * 1000
    if waited:  # the endpoint is up again: back to work
        await task_store().set_phase(task_id, _phase_of(kind))
    usage = result.usage
    prompt, completion = int(usage.prompt_tokens or 0), int(usage.completion_tokens or 0)
    cost = estimate_cost(get_settings(), result.model or model, prompt, completion)
    calls = [ToolCallRequest(c.id, c.name, c.arguments) for c in result.tool_calls]
    step = dict(
        kind=kind, model=result.model, output=result.content,
        arguments=[{"id": c.id, "name": c.name, "arguments": c.arguments} for c in calls] or None,
        prompt_tokens=prompt, completion_tokens=completion,
        cost_usd=cost, latency_ms=latency_ms, progress=progress)
    if plan_progress is not None:
        await task_store().record_plan_step(
            task_id, seq, prompts.parse_plan(result.content or ""), plan_progress, **step)
    else:
        await task_store().record_step(task_id, seq, **step)
    AGENT_STEPS.labels(kind=kind).inc()
    return ModelTurn(content=result.content, reasoning=result.reasoning, tool_calls=calls,
                     total_tokens=prompt + completion, model=result.model,
                     fell_back=result.fell_back)


@held_call
@DBOS.step(name="agent.tool_call", preemptible=True)
async def tool_step(
    task_id: str,
    seq: int,
    *,
    user_id: int,
    call: ToolCallRequest,
    offered: Toolset,
    deadline: float,
    progress: int,
    attempt: int = 0,
) -> ToolOutcome | Failure:
    """One tool call through the hub; malformed calls come back as an error text.

    A `write` tool's call is preceded by its intent (approvals.intents). Re-run after a
    crash, a step that finds its intent does not call the tool again: it returns the
    result recorded before the crash, or `interrupted` when there is none (a person then
    decides; `attempt` numbers the runs they approved)."""
    settings = get_settings()
    read = agent_tools.read_call(call.name, call.arguments, offered)
    tool = read.tool
    shown_name = f"{tool.client}.{tool.name}" if tool is not None else call.name
    if tool is not None and not read.error and tool.effects == WRITE \
            and not await intents.begin(task_id, seq, attempt, shown_name):
        recorded = await task_store().recorded_step(task_id, seq)
        if recorded is not None:
            return ToolOutcome(content=recorded[1] or "", outcome=recorded[0])
        log.warning("write call %s of task %s was interrupted; asking before re-running",
                    shown_name, task_id)
        return ToolOutcome(content="", outcome=INTERRUPTED)
    started = time.perf_counter()
    if read.error or tool is None:
        outcome, content = "invalid_call", read.error or ""
    elif deadline - time.time() <= 0:
        return TIMED_OUT
    else:
        timeout = min(settings.task_tool_timeout_seconds, max(1.0, deadline - time.time()))
        hub = tool_port()
        await _settle(hub, tool.client, min(timeout, 15.0))
        try:
            result = await hub.execute(tool.client, tool.name, read.params,
                                       user_id=user_id, timeout=timeout)
            if result.success:
                outcome, content = "ok", agent_tools.render_result(result.result)
            else:
                outcome = "error"
                content = f"Error from {shown_name}: {result.error}"
        except ValidationFailed as exc:  # the one schema check: the hub's
            problems = exc.details.get("validation_errors") or [exc.message]
            outcome = "invalid_call"
            content = f"Error: invalid arguments for {call.name}: {'; '.join(problems)}."
        except AppError as exc:
            outcome, content = "error", f"Error from {shown_name}: {exc.message}"
        except Exception as exc:
            log.warning("tool %s failed in %s: %s", shown_name, task_id, exc)
            outcome, content = "error", f"Error from {shown_name}: {type(exc).__name__}: {exc}"
    content = agent_tools.truncate(content, settings.task_tool_result_chars)
    await task_store().record_step(
        task_id, seq, kind="tool", name=shown_name,
        arguments=read.params if read.params is not None else call.arguments,
        outcome=outcome, output=content[:4000],
        latency_ms=(time.perf_counter() - started) * 1000, progress=progress)
    AGENT_STEPS.labels(kind="tool").inc()
    return ToolOutcome(content=content, outcome=outcome)


@DBOS.step(name="agent.tool_verdict")
async def verdict_step(task_id: str, seq: int, *, name: str, arguments: Any, outcome: str,
                       content: str, progress: int) -> ToolOutcome:
    """A tool call that did not run (denied, declined, expired, outcome unknown): recorded
    like a call, with the text the model reads instead of a result."""
    await task_store().record_step(task_id, seq, kind="tool", name=name, arguments=arguments,
                                   outcome=outcome, output=content[:4000], progress=progress,
                                   billed=False)
    AGENT_STEPS.labels(kind="tool").inc()
    return ToolOutcome(content=content, outcome=outcome)


@DBOS.step(name="agent.save_plan")
async def save_plan_step(task_id: str, plan: list[str], progress: int) -> None:
    """The plan as its own step, replayed by workflows started before the plan's model
    step recorded it."""
    await task_store().save_plan(task_id, plan, progress)


@DBOS.step(name="agent.finish")
async def finish_step(task_id: str, status: TaskStatus, answer: str | None,
                      answered_by: str | None, error: Failure | None) -> str:
    # One write: the final status (a separate "finishing" phase cost a transaction and an
    # event per task for a state that lasted milliseconds).
    return await task_store().finish(task_id, status=status, answer=answer, answered_by=answered_by,
                                error=error.as_error() if error else None)
