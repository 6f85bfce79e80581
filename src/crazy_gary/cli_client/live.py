"""Following a task in the terminal: the plan, a line per step, a progress bar with phase,
tokens and cost, then the answer rendered as Markdown. Ctrl-C asks what to do."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer
from rich.markdown import Markdown
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.rule import Rule

from crazy_gary.cli_client.output import console, emit, err
from crazy_gary.client import Client, Subscription
from crazy_gary.client.models import FINAL_STATUSES, TaskDetail

PHASES = {
    "queued": "queued: waiting for a free slot",
    "planning": "planning",
    "acting": "acting",
    "waiting_for_model": "waiting for the model",
    "finishing": "finishing",
}


def short_arguments(arguments: Any, width: int = 60) -> str:
    """`k=v, …` cut to `width` characters (a string that is not JSON is shown as is)."""
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError:
            return str(arguments[:width])
    if isinstance(arguments, dict):
        parts = []
        for key, value in arguments.items():
            text = json.dumps(value) if not isinstance(value, str) else repr(value)
            parts.append(f"{key}={text[:24] + '…' if len(text) > 25 else text}")
        text = ", ".join(parts)
    else:
        text = json.dumps(arguments)
    return text if len(text) <= width else text[: width - 1] + "…"


def step_line(step: dict[str, Any]) -> str:
    """One line for a step: what it did, its outcome and latency."""
    kind, outcome = step.get("kind", "?"), step.get("outcome", "?")
    colour = "green" if outcome == "ok" else "red"
    latency = step.get("latency_ms") or 0
    took = f"{latency / 1000:.1f} s" if latency >= 1000 else f"{latency:.0f} ms"
    if kind == "tool":
        what = f"[cyan]{step.get('tool')}[/cyan]({short_arguments(step.get('arguments'))})"
    else:
        calls = step.get("tool_calls") or []
        names = ", ".join(str(c.get("name", "?")).replace("__", ".") for c in calls)
        what = f"{step.get('model') or 'model'}" + (f" → calls {names}" if names else
                                                     " → answer" if kind == "model" else "")
        tokens = (step.get("usage") or {}).get("total_tokens")
        if tokens:
            took += f" · {tokens} tokens"
    seq = f"#{step.get('seq', '?')}".rjust(3)
    return f"  [dim]{seq}[/dim] {kind:<5} {what}  [{colour}]{outcome}[/{colour}]  [dim]{took}[/dim]"


class TaskView:
    """The live rendering of one task (used as a context manager around its events)."""

    def __init__(self) -> None:
        self.progress = Progress(
            SpinnerColumn(), TextColumn("{task.description:<34}"), BarColumn(bar_width=24),
            TextColumn("{task.percentage:>3.0f}%"), TextColumn("{task.fields[tokens]} tokens"),
            TextColumn("${task.fields[cost]:.4f}"), TimeElapsedColumn(), console=console)
        self.bar = self.progress.add_task("created", total=100, tokens=0, cost=0.0)
        self.steps: set[int | None] = set()
        self.tokens, self.cost = 0, 0.0
        self.plan_shown = False
        self.plan_step: dict[str, Any] | None = None

    def __enter__(self) -> TaskView:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def snapshot(self, task: TaskDetail) -> None:
        if task.plan:
            self._plan(task.plan)
        for step in (task.result or {}).get("steps", []):
            self._step(step)
        self._state(task.status, task.phase, task.phase_reason, task.progress)

    def event(self, data: dict[str, Any]) -> None:
        if data.get("plan"):
            self._plan(data["plan"])
        if isinstance(data.get("step"), dict):
            self._step(data["step"])
        self._state(data.get("status"), data.get("phase"), data.get("phase_reason"),
                    data.get("progress"))

    def _plan(self, plan: list[str]) -> None:
        if self.plan_shown:
            return
        self.plan_shown = True
        how = ""
        if self.plan_step is not None:  # the planning call, told in the heading
            how = " [dim]" + step_line(self.plan_step).split("plan", 1)[-1].strip() + "[/dim]"
        self.progress.console.print(f"[bold]Plan[/bold]{how}")
        for n, item in enumerate(plan, 1):
            self.progress.console.print(f"  {n}. {item}")

    def _step(self, step: dict[str, Any]) -> None:
        seq = step.get("seq")
        if seq in self.steps:
            return
        self.steps.add(seq)
        self.tokens += int((step.get("usage") or {}).get("total_tokens") or 0)
        self.cost += float(step.get("cost_usd") or 0.0)
        if step.get("kind") == "plan":
            self.plan_step = step  # shown with the plan, which arrives next
            return
        self.progress.console.print(step_line(step))

    def _state(self, status: str | None, phase: str | None, reason: str | None,
               progress: int | None) -> None:
        if status == "running":
            label = PHASES.get(phase or "", phase or "running")
            if reason:
                label = f"{label}: {reason}"
        else:
            label = status or "?"
        update: dict[str, Any] = {"description": label[:34], "tokens": self.tokens,
                                  "cost": self.cost}
        if progress is not None:
            update["completed"] = progress
        self.progress.update(self.bar, **update)


def follow(gary: Client, task_id: str, *, json_out: bool,
           subscription: Subscription | None = None) -> int:
    """Follow the task until it ends; the exit status (0 completed, 1 failed or stopped)."""
    try:
        if subscription is not None:  # opened before the task started: its end will come
            _follow(gary, task_id, subscription, json_out, until_end=True)
        else:
            with gary.events.subscribe() as sub:
                _follow(gary, task_id, sub, json_out, until_end=False)
    except KeyboardInterrupt:
        return _interrupted(gary, task_id, json_out)
    final = gary.tasks.get(task_id)
    if json_out:
        emit({"event": "result", "data": final})
    else:
        render_result(final)
    return 0 if final.status == "completed" else 1


def _follow(gary: Client, task_id: str, sub: Subscription, json_out: bool,
            until_end: bool) -> None:
    current = gary.tasks.get(task_id)  # read after subscribing: no later event is missed
    live = until_end or current.status not in FINAL_STATUSES
    if json_out:
        for event in gary.tasks.follow(task_id, subscription=sub) if live else ():
            emit(event)
        return
    with TaskView() as view:
        view.snapshot(current)
        for event in gary.tasks.follow(task_id, subscription=sub) if live else ():
            view.event(event.data)


def _interrupted(gary: Client, task_id: str, json_out: bool) -> int:
    stop = sys.stdin.isatty() and typer.confirm(
        f"\nStop task {task_id}? (no: leave it running)", default=False, err=True)
    if stop:
        gary.tasks.stop(task_id)
        if json_out:
            emit({"event": "result", "data": gary.tasks.get(task_id)})
        else:
            err.print(f"[yellow]Stopped[/yellow] task {task_id}.")
        return 1
    err.print(f"Task {task_id} keeps running; `crazy-gary tasks follow {task_id}` "
              "to watch it again.")
    return 130


def render_result(task: TaskDetail) -> None:
    result = task.result or {}
    usage = result.get("usage") or {}
    if task.status == "completed":
        console.print(Rule("Answer"))
        console.print(Markdown(result.get("answer") or ""))
        console.print(Rule())
    elif task.status == "failed" and task.error is not None:
        console.print(f"[red]Failed[/red] {task.error.code}: {task.error.message}")
    else:
        console.print(f"[yellow]{task.status.capitalize()}[/yellow]")
    console.print(f"[dim]{task.id} · {task.status} · {usage.get('total_tokens', 0)} tokens · "
                  f"${usage.get('cost_usd', 0.0):.4f}[/dim]")
