"""The agent loop, run inside the task's durable workflow.

Everything here is deterministic given the steps' recorded outputs, so after a
crash the engine replays it: completed model and tool calls return their
checkpointed results and only the interrupted call runs again.
"""

from __future__ import annotations

from typing import Any

from crazy_gary.agent import prompts
from crazy_gary.agent.steps import (
    finish_step,
    model_step,
    save_plan_step,
    select_tools_step,
    tool_step,
)
from crazy_gary.config import get_settings

CHAT_MAX_STEPS = 8


def _assistant_message(out: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": out.get("content") or ""}
    if out.get("reasoning"):
        message["reasoning_content"] = out["reasoning"]
    if out.get("tool_calls"):
        message["tool_calls"] = [
            {"id": c["id"], "type": "function",
             "function": {"name": c["name"], "arguments": c.get("arguments") or "{}"}}
            for c in out["tool_calls"]]
    return message


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Plan, then act with tools until a final answer or a limit; returns the outcome."""
    settings = get_settings()
    task_id, opts = spec["task_id"], spec.get("options") or {}
    is_chat = spec.get("origin") == "chat"
    max_steps = int(opts.get("max_steps")
                    or (CHAT_MAX_STEPS if is_chat else settings.task_max_steps))
    budget = int(opts.get("token_budget") or settings.task_token_budget)
    timeout = float(opts.get("timeout_seconds") or (
        settings.chat_timeout_seconds if is_chat else settings.task_timeout_seconds))
    deadline = spec["started_at"] + timeout
    model = spec["model"]
    used_tokens, seq, answered_by = 0, 0, None

    async def fail(code: str, message: str) -> dict[str, Any]:
        status = await finish_step(task_id, "failed", None, answered_by,
                                   {"code": code, "message": message})
        return {"task_id": task_id, "status": status, "error": {"code": code, "message": message}}

    toolset = await select_tools_step(spec["user_id"], spec["description"][:2000],
                                      opts.get("tools"))
    messages = prompts.task_messages(spec)

    plan: list[str] = []
    if not is_chat and opts.get("plan", True):
        out = await model_step(task_id, seq, model=model,
                               messages=prompts.plan_messages(messages), tools=None,
                               deadline=deadline, kind="plan", progress=2)
        seq += 1
        if "error" in out:
            return await fail(out["error"]["code"], out["error"]["message"])
        used_tokens += out["total_tokens"]
        answered_by = out["model"]
        plan = prompts.parse_plan(out["content"])
        await save_plan_step(task_id, plan, 5)
        messages.append({"role": "assistant", "content": "Plan:\n" + "\n".join(
            f"{i}. {step}" for i, step in enumerate(plan, 1))})
        messages.append({"role": "user", "content": "Now carry out the plan."})
        if used_tokens > budget:
            return await fail("TOKEN_BUDGET_EXCEEDED",
                              f"Used {used_tokens} tokens, over the budget of {budget}")

    turns = 0
    while True:
        if turns >= max_steps:
            return await fail("MAX_STEPS_EXCEEDED",
                              f"No final answer after {max_steps} steps")
        out = await model_step(task_id, seq, model=model, messages=messages,
                               tools=toolset["schemas"], deadline=deadline, kind="model",
                               progress=prompts.progress_after(turns, len(plan) or 1))
        seq += 1
        if "error" in out:
            return await fail(out["error"]["code"], out["error"]["message"])
        used_tokens += out["total_tokens"]
        answered_by = out["model"]
        if used_tokens > budget:
            return await fail("TOKEN_BUDGET_EXCEEDED",
                              f"Used {used_tokens} tokens, over the budget of {budget}")
        if not out["tool_calls"]:
            answer = out.get("content") or ""
            status = await finish_step(task_id, "completed", answer, answered_by, None)
            return {"task_id": task_id, "status": status, "answer": answer}
        messages.append(_assistant_message(out))
        turns += 1
        for call in out["tool_calls"]:
            result = await tool_step(task_id, seq, user_id=spec["user_id"], call=call,
                                     index=toolset["index"], deadline=deadline,
                                     progress=prompts.progress_after(turns, len(plan) or 1))
            seq += 1
            if "error" in result:
                return await fail(result["error"]["code"], result["error"]["message"])
            messages.append({"role": "tool", "tool_call_id": call["id"],
                             "content": result["content"]})
