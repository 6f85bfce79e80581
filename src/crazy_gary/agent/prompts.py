"""What the agent is told, and how its plan is read back."""

from __future__ import annotations

import json
import re
from typing import Any

from crazy_gary.tasks.schemas import TaskSpec

SYSTEM = (
    "You are Crazy Gary, an autonomous agent. Work on the user's task step by step. "
    "Use the tools offered when they help; call one or more tools, read their results, "
    "and continue until the task is done. When you are done, reply with the final answer "
    "as plain text and call no tool."
)
PLAN_INSTRUCTION = (
    "Before acting, write a short plan for this task: 2 to 6 numbered steps, one per line, "
    "no other text. Do not call any tool yet."
)
CHAT_SYSTEM = (
    "You are Crazy Gary, a helpful assistant for software work. Answer the user directly; "
    "use a tool only when it clearly helps."
)
MAX_PLAN_STEPS = 8


def task_messages(spec: TaskSpec) -> list[dict[str, Any]]:
    """The opening conversation of a task (or a chat turn with its history)."""
    if spec.is_chat:
        messages: list[dict[str, Any]] = [{"role": "system", "content": CHAT_SYSTEM}]
        messages.extend(spec.history)
        messages.append({"role": "user", "content": spec.description})
        return messages
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": f"Task: {spec.title}\n\n{spec.description}"},
    ]


def plan_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [*messages, {"role": "user", "content": PLAN_INSTRUCTION}]


_BULLET = re.compile(r"^\s*(?:\d+[.)]|[-*•]|step\s*\d+[:.)])\s*", re.IGNORECASE)


def parse_plan(text: str | None) -> list[str]:
    """Plan steps from the model's reply: a JSON list, or numbered/bulleted lines."""
    text = (text or "").strip()
    if text.startswith("["):
        try:
            items = json.loads(text)
            steps = [str(item).strip() for item in items if str(item).strip()]
            if steps:
                return steps[:MAX_PLAN_STEPS]
        except (ValueError, TypeError):
            pass
    lines = [line for line in text.splitlines() if line.strip()]
    bulleted = [_BULLET.sub("", line).strip() for line in lines if _BULLET.match(line)]
    steps = bulleted or [line.strip() for line in lines]
    steps = [s[:300] for s in steps if s]
    return steps[:MAX_PLAN_STEPS] or ["Work on the task", "Give the final answer"]


def progress_after(turns_done: int, plan_len: int) -> int:
    """Progress (5..95) after some acting turns; planning done = 5, final answer = 100."""
    plan_len = max(1, plan_len)
    if turns_done <= plan_len:
        return 5 + (85 * turns_done) // plan_len
    # Past the plan: creep towards 95 without ever reaching it.
    extra = turns_done - plan_len
    return min(94, 90 + extra)
