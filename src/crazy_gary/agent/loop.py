"""The agent loop, run inside the task's durable workflow.

Everything here is deterministic given the steps' recorded outputs, so after a
crash the engine replays it: completed model and tool calls return their
checkpointed results and only the interrupted call runs again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crazy_gary.agent import gate, prompts
from crazy_gary.agent.ports import Failure, ModelTurn, ToolOutcome, Toolset
from crazy_gary.agent.steps import (
    INTERRUPTED,
    finish_step,
    model_step,
    save_plan_step,
    select_tools_step,
    tool_step,
    verdict_step,
)
from crazy_gary.approvals.models import APPROVED
from crazy_gary.config import get_settings
from crazy_gary.tasks.schemas import TaskSpec
from crazy_gary.tasks.status import TaskStatus

CHAT_MAX_STEPS = 8
PLAN_PROGRESS = 5  # percent, once the plan is saved


@dataclass(frozen=True)
class Outcome:
    """How a task's run ended: its final status, and its answer or error."""

    task_id: str
    status: str
    answer: str | None = None
    error: Failure | None = None


def _assistant_message(out: ModelTurn) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": out.content or ""}
    if out.reasoning:
        message["reasoning_content"] = out.reasoning
    if out.tool_calls:
        message["tool_calls"] = [
            {"id": c.id, "type": "function",
             "function": {"name": c.name, "arguments": c.arguments or "{}"}}
            for c in out.tool_calls]
    return message


async def run(spec: TaskSpec, toolset: Toolset | None = None) -> Outcome:
    """Plan, then act with tools until a final answer or a limit; returns the outcome.

    `toolset` is what the task's first step chose. Without it the workflow was started
    before that step chose tools (its replay must meet the steps it recorded): the tools
    are then chosen by their own step, and the plan saved by its own step too."""
    settings = get_settings()
    task_id, opts = spec.task_id, spec.options
    max_steps = int(opts.max_steps
                    or (CHAT_MAX_STEPS if spec.is_chat else settings.task_max_steps))
    budget = int(opts.token_budget or settings.task_token_budget)
    timeout = float(opts.timeout_seconds or (
        settings.chat_timeout_seconds if spec.is_chat else settings.task_timeout_seconds))
    deadline = spec.started_at + timeout
    used_tokens, seq, answered_by = 0, 0, None

    async def fail(failure: Failure) -> Outcome:
        status = await finish_step(task_id, TaskStatus.FAILED, None, answered_by, failure)
        return Outcome(task_id, status, error=failure)

    def over_budget() -> Failure:
        return Failure("TOKEN_BUDGET_EXCEEDED",
                       f"Used {used_tokens} tokens, over the budget of {budget}")

    watch, waited = gate.LoopWatch(settings.loop_repeat_limit), gate.Waited()
    separate_steps = toolset is None
    if toolset is None:
        toolset = await select_tools_step(spec)
    messages = prompts.task_messages(spec)

    plan: list[str] = []
    if not spec.is_chat and opts.plan:
        out = await model_step(task_id, seq, model=spec.model,
                               messages=prompts.plan_messages(messages), tools=None,
                               deadline=deadline, kind="plan", progress=2,
                               plan_progress=None if separate_steps else PLAN_PROGRESS)
        seq += 1
        if isinstance(out, Failure):
            return await fail(out)
        used_tokens += out.total_tokens
        answered_by = out.model
        plan = prompts.parse_plan(out.content or "")
        if separate_steps:
            await save_plan_step(task_id, plan, PLAN_PROGRESS)
        messages.append({"role": "assistant", "content": "Plan:\n" + "\n".join(
            f"{i}. {step}" for i, step in enumerate(plan, 1))})
        messages.append({"role": "user", "content": "Now carry out the plan."})
        if used_tokens > budget:
            return await fail(over_budget())

    turns = 0
    while True:
        if turns >= max_steps:
            return await fail(Failure("MAX_STEPS_EXCEEDED",
                                      f"No final answer after {max_steps} steps"))
        out = await model_step(task_id, seq, model=spec.model, messages=messages,
                               tools=toolset.schemas(), deadline=deadline + waited.seconds,
                               kind="model",
                               progress=prompts.progress_after(turns, len(plan) or 1))
        seq += 1
        if isinstance(out, Failure):
            return await fail(out)
        used_tokens += out.total_tokens
        answered_by = out.model
        if used_tokens > budget:
            return await fail(over_budget())
        if not out.tool_calls:
            answer = out.content or ""
            status = await finish_step(task_id, TaskStatus.COMPLETED, answer, answered_by, None)
            return Outcome(task_id, status, answer=answer)
        messages.append(_assistant_message(out))
        turns += 1
        planned = await gate.gate_turn(spec, seq, out, toolset, watch, waited)
        if planned is None:  # stopped while waiting for a person
            return Outcome(task_id, TaskStatus.STOPPED)
        progress = prompts.progress_after(turns, len(plan) or 1)
        for item in planned:
            result = await _carry_out(spec, seq, item, toolset, deadline, progress, waited)
            seq += 1
            if result is None:
                return Outcome(task_id, TaskStatus.STOPPED)
            if isinstance(result, Failure):
                return await fail(result)
            messages.append({"role": "tool", "tool_call_id": item.call.id,
                             "content": result.content})


async def _carry_out(spec: TaskSpec, seq: int, item: gate.Planned, toolset: Toolset,
                     deadline: float, progress: int,
                     waited: gate.Waited) -> ToolOutcome | Failure | None:
    """Run one call (or record why it did not run). A write call cut off by a crash is put
    to a person before it runs again; None when the task was stopped meanwhile. Time spent
    waiting for people does not count against the task's wall-clock limit."""
    call = item.call
    if not item.run:
        name = toolset.find(call.name)
        shown = f"{name.client}.{name.name}" if name is not None else call.name
        return await verdict_step(spec.task_id, seq, name=shown, arguments=gate.arguments_of(call),
                                  outcome=item.outcome or "declined", content=item.content or "",
                                  progress=progress)
    attempt = 0
    while True:
        result = await tool_step(spec.task_id, seq, user_id=spec.user_id, call=call,
                                 offered=toolset, deadline=deadline + waited.seconds,
                                 progress=progress, attempt=attempt)
        if isinstance(result, Failure) or result.outcome != INTERRUPTED:
            return result
        verdict = await gate.ask_interrupted(spec, seq, call, toolset, attempt, waited)
        if verdict is None:
            return None
        tool = toolset.find(call.name)
        shown = f"{tool.client}.{tool.name}" if tool is not None else call.name
        if verdict.status != APPROVED:
            return await verdict_step(spec.task_id, seq, name=shown,
                                      arguments=gate.arguments_of(call), outcome="unknown",
                                      content=gate.unknown_outcome(shown, verdict),
                                      progress=progress)
        call = gate.edited(call, verdict)
        attempt += 1
