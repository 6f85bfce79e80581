"""`crazy-gary run` and `crazy-gary tasks ls|show|stop|retry|follow`."""

from __future__ import annotations

import typer
from rich.markdown import Markdown
from rich.table import Table

from crazy_gary.cli_client.live import follow, render_result, step_line
from crazy_gary.cli_client.output import JsonOption, connect, console, emit, handles_errors

tasks_app = typer.Typer(help="Your agent tasks.", no_args_is_help=True)


@handles_errors
def run(
    description: str = typer.Argument(..., help="What the agent should do"),
    title: str = typer.Option(None, help="Title (default: the description's start)"),
    model: str = typer.Option(None, help="gpt-oss-120b (default) or gpt-oss-20b"),
    priority: str = typer.Option("medium", help="low, medium, high or critical"),
    max_steps: int = typer.Option(None, help="Model turns allowed"),
    tools: list[str] = typer.Option(None, "--tools", help="Allowed tools (client.tool or "
                                    "client.*); repeat or separate with commas"),
    json_out: bool = JsonOption,
) -> None:
    """Create and start a task, then follow it live until it ends (exit 0 when completed)."""
    allowed = [t.strip() for item in tools or [] for t in item.split(",") if t.strip()] or None
    with connect() as gary, gary.events.subscribe() as sub:
        created = gary.tasks.create(title or _title(description), description, model=model,
                                    priority=priority, max_steps=max_steps, tools=allowed)
        gary.tasks.start(created.task_id)
        if not json_out:
            console.print(f"[bold]Task[/bold] {created.task_id} started")
        code = follow(gary, created.task_id, subscription=sub, json_out=json_out)
    raise typer.Exit(code)


def _title(description: str) -> str:
    first = description.strip().splitlines()[0] if description.strip() else "Task"
    return first if len(first) <= 80 else first[:79] + "…"


@tasks_app.command("ls")
@handles_errors
def list_tasks(
    status: str = typer.Option(None, help="created, running, completed, failed or stopped"),
    limit: int = typer.Option(20, help="How many (newest first)"),
    json_out: bool = JsonOption,
) -> None:
    """List your tasks, newest first."""
    with connect() as gary:
        page = gary.tasks.list(status=status, limit=min(limit, 100))
    if json_out:
        emit(page.items)
        return
    table = Table("id", "status", "progress", "model", "priority", "created", "title",
                  box=None)
    for task in page.items:
        state = task.status + (f" ({task.phase})" if task.phase else "")
        table.add_row(task.id, state, f"{task.progress}%", task.model, task.priority,
                      task.created_at, task.title)
    console.print(table)
    console.print(f"[dim]{len(page.items)} of {page.total}[/dim]")


@tasks_app.command("show")
@handles_errors
def show(task_id: str, json_out: bool = JsonOption) -> None:
    """One task: state, plan, steps, answer or error."""
    with connect() as gary:
        task = gary.tasks.get(task_id)
    if json_out:
        emit(task)
        return
    console.print(f"[bold]{task.title}[/bold]  {task.id}")
    console.print(f"{task.status}" + (f" ({task.phase})" if task.phase else "")
                  + f" · {task.progress}% · {task.model} · {task.priority} · "
                  f"created {task.created_at}")
    if task.plan:
        console.print("[bold]Plan[/bold]")
        for n, item in enumerate(task.plan, 1):
            console.print(f"  {n}. {item}")
    for step in (task.result or {}).get("steps", []):
        console.print(step_line(step))
    if task.status in ("completed", "failed", "stopped"):
        render_result(task)
    elif task.description:
        console.print(Markdown(task.description))


@tasks_app.command("stop")
@handles_errors
def stop(task_id: str, json_out: bool = JsonOption) -> None:
    """Stop a task (what was done so far is kept)."""
    with connect() as gary:
        answer = gary.tasks.stop(task_id)
    if json_out:
        emit({"task_id": task_id, **answer.model_dump()})
    else:
        console.print(f"Task {task_id} {answer.status}.")


@tasks_app.command("retry")
@handles_errors
def retry(
    task_id: str,
    max_steps: int = typer.Option(None, help="Model turns allowed, counting the carried-over"),
    token_budget: int = typer.Option(None, help="Tokens allowed, counting the carried-over"),
    model: str = typer.Option(None, help="Model for the calls still to make"),
    wait: bool = typer.Option(False, "--follow", help="Follow the new task until it ends"),
    json_out: bool = JsonOption,
) -> None:
    """Retry a failed or stopped task from where it ended, as a new task."""
    with connect() as gary:
        created = gary.tasks.retry(task_id, max_steps=max_steps, token_budget=token_budget,
                                   model=model)
        if json_out and not wait:
            emit({"retry_of": task_id, **created.model_dump()})
            return
        if not json_out:
            console.print(f"[bold]Task[/bold] {created.task_id} retries {task_id}")
        if not wait:
            return
        code = follow(gary, created.task_id, json_out=json_out)
    raise typer.Exit(code)


@tasks_app.command("follow")
@handles_errors
def follow_task(task_id: str, json_out: bool = JsonOption) -> None:
    """Follow a task live until it ends (exit 0 when completed, 1 when failed or stopped)."""
    with connect() as gary:
        code = follow(gary, task_id, json_out=json_out)
    raise typer.Exit(code)


__all__ = ["run", "tasks_app"]
