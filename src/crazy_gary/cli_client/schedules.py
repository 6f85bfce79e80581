"""`crazy-gary schedules ls|add|show|runs|run|enable|disable|rm`."""

from __future__ import annotations

import typer
from rich.table import Table

from crazy_gary.cli_client.output import JsonOption, connect, console, emit, handles_errors

schedules_app = typer.Typer(help="Tasks started on a cron schedule.", no_args_is_help=True)


@schedules_app.command("ls")
@handles_errors
def list_schedules(limit: int = typer.Option(20, help="How many (newest first)"),
                   json_out: bool = JsonOption) -> None:
    """List your schedules with their next run."""
    with connect() as gary:
        page = gary.schedules.list(limit=min(limit, 100))
    if json_out:
        emit(page.items)
        return
    table = Table("id", "name", "cron", "timezone", "overlap", "enabled", "next run", box=None)
    for s in page.items:
        table.add_row(s.id, s.name, s.cron, s.timezone, s.overlap, "yes" if s.enabled else "no",
                      s.next_run_at or "-")
    console.print(table)
    console.print(f"[dim]{len(page.items)} of {page.total}[/dim]")


@schedules_app.command("add")
@handles_errors
def add(
    name: str = typer.Argument(..., help="A name for the schedule"),
    cron: str = typer.Argument(..., help="5 fields, or 6 with seconds first ('0 9 * * MON')"),
    description: str = typer.Argument(..., help="What the agent should do at each run"),
    title: str = typer.Option(None, help="Task title (default: the schedule's name)"),
    timezone: str = typer.Option("UTC", help="IANA time zone the cron is read in"),
    overlap: str = typer.Option("skip", help="skip, queue or allow (while a run goes)"),
    model: str = typer.Option(None, help="gpt-oss-120b (default) or gpt-oss-20b"),
    catch_up: bool = typer.Option(False, help="Run the last tick missed while down"),
    json_out: bool = JsonOption,
) -> None:
    """Create a schedule."""
    task = {"title": title or name[:200], "description": description}
    if model:
        task["model"] = model
    with connect() as gary:
        created = gary.schedules.create(name, cron, task, timezone=timezone, overlap=overlap,
                                        catch_up=catch_up)
    if json_out:
        emit(created)
    else:
        console.print(f"Schedule {created.id} created; next run {created.next_run_at}.")


@schedules_app.command("show")
@handles_errors
def show(schedule_id: str, json_out: bool = JsonOption) -> None:
    """One schedule."""
    with connect() as gary:
        schedule = gary.schedules.get(schedule_id)
    if json_out:
        emit(schedule)
        return
    console.print(f"[bold]{schedule.name}[/bold]  {schedule.id}")
    console.print(f"{schedule.cron} ({schedule.timezone}) · overlap {schedule.overlap} · "
                  f"{'enabled' if schedule.enabled else 'disabled'} · next run "
                  f"{schedule.next_run_at or '-'} · last run {schedule.last_run_at or '-'}")
    console.print(f"Task: {schedule.task.get('title')}: {schedule.task.get('description')}")


@schedules_app.command("runs")
@handles_errors
def runs(schedule_id: str, limit: int = typer.Option(20, help="How many (newest first)"),
         json_out: bool = JsonOption) -> None:
    """The schedule's runs: fired, skipped or queued, and their tasks."""
    with connect() as gary:
        page = gary.schedules.runs(schedule_id, limit=min(limit, 100))
    if json_out:
        emit(page.items)
        return
    table = Table("scheduled for", "status", "trigger", "task", box=None)
    for run in page.items:
        table.add_row(run.scheduled_for, run.status, run.trigger, run.task_id or "-")
    console.print(table)


@schedules_app.command("run")
@handles_errors
def run_now(schedule_id: str, json_out: bool = JsonOption) -> None:
    """Create and start the schedule's task now."""
    with connect() as gary:
        started = gary.schedules.run(schedule_id)
    if json_out:
        emit(started)
    else:
        console.print(f"Task {started.task_id} started.")


def _set_enabled(schedule_id: str, enabled: bool, json_out: bool) -> None:
    with connect() as gary:
        schedule = gary.schedules.update(schedule_id, enabled=enabled)
    if json_out:
        emit(schedule)
    else:
        console.print(f"Schedule {schedule_id} {'enabled' if enabled else 'disabled'}.")


@schedules_app.command("enable")
@handles_errors
def enable(schedule_id: str, json_out: bool = JsonOption) -> None:
    """Resume firing."""
    _set_enabled(schedule_id, True, json_out)


@schedules_app.command("disable")
@handles_errors
def disable(schedule_id: str, json_out: bool = JsonOption) -> None:
    """Stop firing (kept; `enable` resumes)."""
    _set_enabled(schedule_id, False, json_out)


@schedules_app.command("rm")
@handles_errors
def remove(schedule_id: str) -> None:
    """Delete a schedule (the tasks it created stay)."""
    with connect() as gary:
        gary.schedules.delete(schedule_id)
    console.print(f"Schedule {schedule_id} deleted.")


__all__ = ["schedules_app"]
