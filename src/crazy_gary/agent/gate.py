"""Between a model turn and its tool calls: the tool policy, loop detection, and a person.

Each call of a turn is matched against the servers' and the task's policy (deny > ask >
allow). `deny` answers the model at once; `ask` (or a call repeated LOOP_REPEAT_LIMIT
times in a row) creates one approval per call, all of a turn at once, and the workflow
waits durably for every decision: it polls the approvals in a step and sleeps in
`DBOS.recv_async` until a decision, a stop or the first expiry wakes it. The wait is an
async workflow awaiting a message: no thread is held, and after a restart the engine
replays the checkpointed steps and waits again for what is still pending.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from dbos import DBOS

from crazy_gary.agent import tools as agent_tools
from crazy_gary.agent.ports import ModelTurn, ToolCallRequest, Toolset
from crazy_gary.agent.steps import INTERRUPTED, task_store
from crazy_gary.approvals import service as approvals
from crazy_gary.approvals.models import APPROVED, EXPIRED
from crazy_gary.config import get_settings
from crazy_gary.kit import tool_policy as policy
from crazy_gary.tasks.schemas import TaskSpec
from crazy_gary.toolhub.types import Tool

AWAITING = "awaiting_approval"
LOOP_SUSPECTED = "loop_suspected"


@dataclass(frozen=True)
class Planned:
    """What becomes of one call: run it (with these arguments), or answer `content`."""

    call: ToolCallRequest
    run: bool = True
    outcome: str | None = None
    content: str | None = None


@dataclass
class Waited:
    """Seconds the task spent waiting for people: its wall-clock limit is moved by as much
    (from checkpointed poll times, so a replay computes the same)."""

    seconds: float = 0.0


class LoopWatch:
    """Counts identical calls (same tool, same arguments) in a row across turns."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.last: str | None = None
        self.streak = 0

    def see(self, call: ToolCallRequest) -> bool:
        """Note the call; True when it makes `limit` identical calls in a row."""
        key = call.name + "\0" + _canonical(call.arguments)
        self.streak = self.streak + 1 if key == self.last else 1
        self.last = key
        return self.streak >= self.limit

    def reset(self) -> None:
        self.streak = 0


def _canonical(arguments: str | None) -> str:
    try:
        return json.dumps(json.loads(arguments or "{}"), sort_keys=True)
    except ValueError:
        return arguments or ""


def arguments_of(call: ToolCallRequest) -> Any:
    try:
        return json.loads(call.arguments or "{}")
    except ValueError:
        return call.arguments


def action_for(tool: Tool, spec: TaskSpec) -> str:
    """allow / ask / deny for a call of `tool` in this task."""
    task_policy = spec.options.tool_policy or {}
    rules = tuple((r["match"], r["action"]) for r in task_policy.get("rules") or [])
    return policy.decide(f"{tool.client}.{tool.name}", server=tool.approval,
                         destructive=tool.destructive,
                         server_default=get_settings().tool_approval_default,
                         task_rules=rules, task_default=task_policy.get("default"))


def _timeout(spec: TaskSpec) -> float:
    return float(spec.options.approval_timeout_seconds
                 or get_settings().approval_timeout_seconds)


@DBOS.step(name="agent.request_approvals")
async def request_approvals_step(task_id: str, user_id: int,
                                 items: list[approvals.ApprovalRequest],
                                 timeout_seconds: float) -> list[str]:
    ids = await approvals.request(task_id, user_id, items, timeout_seconds)
    await task_store().set_phase(task_id, AWAITING, f"{len(ids)} tool call(s) to approve")
    return ids


@DBOS.step(name="agent.poll_approvals")
async def poll_approvals_step(task_id: str, ids: list[str]) -> approvals.Poll:
    poll = await approvals.poll(ids)
    if poll.wait_seconds is None and not poll.stopped:
        await task_store().set_phase(task_id, "acting")
    return poll


async def wait_for(task_id: str, ids: list[str], waited: Waited) -> approvals.Poll:
    """Every approval decided (or expired), or one cancelled by a stop."""
    first: approvals.Poll | None = None
    while True:
        poll = await poll_approvals_step(task_id, ids)
        first = first or poll
        if poll.wait_seconds is None or poll.stopped:
            waited.seconds += max(0.0, poll.polled_at - first.polled_at)
            return poll
        await DBOS.recv_async(approvals.TOPIC, timeout_seconds=poll.wait_seconds)


def _request(call: ToolCallRequest, tool: Tool | None, key: str,
             reason: str) -> approvals.ApprovalRequest:
    name = f"{tool.client}.{tool.name}" if tool is not None else call.name
    return approvals.ApprovalRequest(
        call_key=key, tool_call_id=call.id, tool=name, arguments=arguments_of(call),
        parameters_schema=tool.schema if tool is not None else None, reason=reason)


def edited(call: ToolCallRequest, verdict: approvals.Verdict) -> ToolCallRequest:
    arguments = verdict.arguments
    text = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return replace(call, arguments=text)


def _not_run(call: ToolCallRequest, name: str, verdict: approvals.Verdict,
             looping: bool) -> Planned:
    if verdict.status == EXPIRED:
        return Planned(call, run=False, outcome="expired",
                       content=f"Nobody approved the call of {name} in time; it was not run.")
    note = f" Their comment: {verdict.comment}" if verdict.comment else ""
    if looping:
        return Planned(call, run=False, outcome="declined", content=(
            f"A person stopped this call of {name}: you made the same call several times in "
            f"a row. Change course.{note}"))
    return Planned(call, run=False, outcome="declined",
                   content=f"A person declined the call of {name}; it was not run.{note}")


async def gate_turn(spec: TaskSpec, seq: int, out: ModelTurn, offered: Toolset,
                    watch: LoopWatch, waited: Waited) -> list[Planned] | None:
    """What to do with each call of the turn, after asking whoever must be asked; None
    when the task was stopped while waiting."""
    planned: list[Planned] = []
    asked: list[tuple[int, approvals.ApprovalRequest, bool]] = []
    reason = (out.content or out.reasoning or "").strip()
    for index, call in enumerate(out.tool_calls):
        looping = watch.see(call)
        tool = agent_tools.read_call(call.name, call.arguments, offered).tool
        if tool is None:  # unknown tool: the tool step answers with the error text
            planned.append(Planned(call))
            continue
        action = action_for(tool, spec)
        name = f"{tool.client}.{tool.name}"
        if action == "deny":
            planned.append(Planned(call, run=False, outcome="not_allowed", content=(
                f"Not allowed: {name} may not be used in this task (tool policy). "
                "Carry on without it.")))
        elif action == "ask" or looping:
            why = LOOP_SUSPECTED if looping else reason
            key = f"{seq}:{index}:{call.id}:{'loop' if looping else 'ask'}"
            asked.append((index, _request(call, tool, key, why), looping))
            planned.append(Planned(call))
            if looping:
                watch.reset()
        else:
            planned.append(Planned(call))
    if not asked:
        return planned
    ids = await request_approvals_step(spec.task_id, spec.user_id, [a[1] for a in asked],
                                       _timeout(spec))
    poll = await wait_for(spec.task_id, ids, waited)
    if poll.stopped:
        return None
    for (index, item, looping), verdict in zip(asked, poll.verdicts, strict=True):
        call = planned[index].call
        if verdict.status == APPROVED:
            planned[index] = Planned(edited(call, verdict))
        else:
            planned[index] = _not_run(call, item.tool, verdict, looping)
    return planned


async def ask_interrupted(spec: TaskSpec, seq: int, call: ToolCallRequest, offered: Toolset,
                          attempt: int, waited: Waited) -> approvals.Verdict | None:
    """A write call was cut off by a crash: may it run again? None when stopped."""
    tool = agent_tools.read_call(call.name, call.arguments, offered).tool
    key = f"{seq}:{call.id}:interrupted:{attempt}"
    ids = await request_approvals_step(spec.task_id, spec.user_id,
                                       [_request(call, tool, key, INTERRUPTED)], _timeout(spec))
    poll = await wait_for(spec.task_id, ids, waited)
    return None if poll.stopped else poll.verdicts[0]


def unknown_outcome(name: str, verdict: approvals.Verdict) -> str:
    note = f" Their comment: {verdict.comment}" if verdict.comment else ""
    if verdict.status == EXPIRED:
        return (f"The call of {name} was interrupted by a restart and nobody decided in time "
                f"whether to run it again: its outcome is unknown.{note}")
    return (f"The call of {name} was interrupted by a restart and a person chose not to run "
            f"it again: its outcome is unknown (it may or may not have taken effect).{note}")
