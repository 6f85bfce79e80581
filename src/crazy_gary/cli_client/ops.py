"""`crazy-gary endpoints status|wake|sleep`, `crazy-gary heavy run`, `crazy-gary health`."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markdown import Markdown
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from crazy_gary.cli_client import config
from crazy_gary.cli_client.output import JsonOption, connect, console, emit, handles_errors
from crazy_gary.client import Client
from crazy_gary.client.events import Subscription

endpoints_app = typer.Typer(help="The model endpoints (120b, 20b).", no_args_is_help=True)
heavy_app = typer.Typer(help="Heavy orchestration: tool workflows, multi-agent mode.",
                        no_args_is_help=True)


@endpoints_app.command("status")
@handles_errors
def status(json_out: bool = JsonOption) -> None:
    """Status of both model endpoints."""
    with connect() as gary:
        answer = gary.endpoints.status()
    if json_out:
        emit(answer)
        return
    table = Table("model", "status", "provider", "auto-sleep in", "last error", box=None)
    for key, item in answer.endpoints.items():
        table.add_row(key, item.status, item.provider,
                      f"{item.auto_sleep_in} s" if item.auto_sleep_in is not None else "-",
                      item.last_error or "")
    console.print(table)


@endpoints_app.command("wake")
@handles_errors
def wake(model: str = typer.Argument(None, help="120b or 20b (default: both)"),
         wait: bool = typer.Option(False, "--wait", help="Wait until it is running"),
         json_out: bool = JsonOption) -> None:
    """Start waking an endpoint (or both); `--wait` shows progress until it runs."""
    with connect() as gary:
        answer = gary.endpoints.wake(model)
        if json_out:
            emit(answer)
        else:
            console.print(answer.message)
        if wait:
            _wait_running(gary, [model] if model else _manageable(gary), json_out)


def _manageable(gary: Client) -> list[str]:
    return [k for k, v in gary.endpoints.status().endpoints.items() if v.manageable]


def _wait_running(gary: Client, models: list[str], json_out: bool) -> None:
    for model in models:
        if json_out:
            for current in gary.endpoints.wait_until(model):
                emit({"model": model, **current.model_dump()})
            continue
        with console.status(f"{model}: waking…") as spinner:
            for current in gary.endpoints.wait_until(model):
                spinner.update(f"{model}: {current.status}")
        console.print(f"{model}: running")


@endpoints_app.command("sleep")
@handles_errors
def sleep(model: str = typer.Argument(None, help="120b or 20b (default: both)"),
          json_out: bool = JsonOption) -> None:
    """Put an endpoint (or both) to sleep (administrators only)."""
    with connect() as gary:
        answer = gary.endpoints.sleep(model)
    if json_out:
        emit(answer)
    else:
        console.print(answer.message)


@heavy_app.command("run")
@handles_errors
def heavy_run(file: Path = typer.Argument(..., exists=True, dir_okay=False,
                                          help="JSON: {workflow, config} or {query}"),
              follow: bool = typer.Option(False, "--follow", help="Follow it live"),
              json_out: bool = JsonOption) -> None:
    """Start an orchestration from FILE.json (`--follow`: exit 0 only when it completed)."""
    request = json.loads(file.read_text())
    with connect() as gary, gary.events.subscribe() as sub:
        started = gary.heavy.orchestrate(request)
        if json_out:
            emit(started)
        else:
            console.print(f"[bold]Orchestration[/bold] {started.orchestration_id} started "
                          f"({started.total_steps} steps)")
        if not follow:
            return
        _follow_heavy(gary, started.orchestration_id, sub, json_out)
        final = gary.heavy.progress(started.orchestration_id)
    if json_out:
        emit({"event": "result", "data": final})
    else:
        colour = "green" if final.status == "completed" else "red"
        console.print(f"[{colour}]{final.status}[/{colour}]"
                      + (f": {final.error}" if final.error else ""))
        if final.answer:
            console.print(Markdown(final.answer))
        for item in final.artifacts or []:
            console.print(f"artifact: {item.get('path', item)}")
    raise typer.Exit(0 if final.status == "completed" else 1)


def _follow_heavy(gary: Client, orchestration_id: str, sub: Subscription,
                  json_out: bool) -> None:
    if json_out:
        for event in gary.heavy.follow(orchestration_id, subscription=sub):
            emit(event)
        return
    columns = (SpinnerColumn(), TextColumn("{task.description:<24}"), BarColumn(bar_width=30),
               TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn())
    shown: set[tuple[object, ...]] = set()
    with Progress(*columns, console=console) as progress:
        bar = progress.add_task("running", total=100)
        for event in gary.heavy.follow(orchestration_id, subscription=sub):
            step = event.data.get("step")
            if step and (step.get("step"), step.get("status")) not in shown:
                shown.add((step.get("step"), step.get("status")))
                took = f" {step['duration']:.1f} s" if step.get("duration") else ""
                progress.console.print(f"  step {step.get('step')} {step.get('name') or ''} "
                                       f"[cyan]{step.get('tool')}[/cyan] {step.get('status')}"
                                       f"{took}" + (f" [red]{step['error']}[/red]"
                                                    if step.get("error") else ""))
            progress.update(bar, completed=event.data.get("progress", 0),
                            description=str(event.data.get("status")))


@handles_errors
def health(json_out: bool = JsonOption) -> None:
    """Is the server up and ready? (exit 1 when it is not ready)"""
    with Client(config.server_url()) as gary:
        up = gary.health.check()
        ready = gary.health.ready()
    if json_out:
        emit({"url": config.server_url(), "health": up, "ready": ready})
    else:
        colour = "green" if ready.status == "ready" else "red"
        console.print(f"{config.server_url()}: {up.status}, [{colour}]{ready.status}[/{colour}]"
                      f" · version {up.version} · {up.environment}")
        for name in ready.missing_env_vars or []:
            console.print(f"  missing {name}")
        if ready.database:
            console.print(f"  database {ready.database}")
    if ready.status != "ready":
        raise typer.Exit(1)
