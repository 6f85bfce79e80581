"""`crazy-gary approvals ls|show|approve|deny|watch`: the tool calls your tasks put to you."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer
from rich.table import Column, Table

from crazy_gary.cli_client.live import short_arguments
from crazy_gary.cli_client.output import JsonOption, connect, console, emit, err, handles_errors
from crazy_gary.client import Client, ConflictError, CrazyGaryError, ValidationError
from crazy_gary.client.models import FINAL_STATUSES, ApprovalRead
from crazy_gary.client.tasks import task_ended

approvals_app = typer.Typer(help="Tool calls waiting for your decision (docs/approvals.md).",
                            no_args_is_help=True)

CommentOption = typer.Option(None, "--comment", "-c", help="A note (told to the model "
                             "when denied)")


class BadArguments(CrazyGaryError):
    pass


def parse_arguments(value: str) -> dict[str, Any]:
    """A JSON object given inline or as `@FILE` (`@-`: standard input)."""
    if value.startswith("@"):
        name = value[1:]
        try:
            value = sys.stdin.read() if name == "-" else Path(name).read_text()
        except OSError as exc:
            raise BadArguments(f"--arguments: cannot read {name}: {exc.strerror}") from None
    try:
        parsed = json.loads(value)
    except ValueError as exc:
        raise BadArguments(f"--arguments is not JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise BadArguments("--arguments must be a JSON object")
    return parsed


def _table(items: list[ApprovalRead]) -> Table:
    """The id whole (it is what the other commands take); the arguments give way (`show`
    and `--json` have the task and the rest)."""
    table = Table(Column("id", no_wrap=True, min_width=41),
                  Column("status", no_wrap=True, min_width=9),
                  Column("tool", no_wrap=True, min_width=20),
                  Column("arguments", overflow="ellipsis", no_wrap=True), box=None)
    for item in items:
        table.add_row(item.id, item.status, item.tool, short_arguments(item.arguments, 40))
    return table


def _describe(item: ApprovalRead) -> None:
    console.print(f"[bold]{item.tool}[/bold]  {item.id}  [bold]{item.status}[/bold]")
    console.print(f"task {item.task_id} · requested {item.requested_at} · "
                  f"expires {item.expires_at}")
    if item.reason:
        console.print(f"reason: {item.reason}")
    console.print("arguments: " + json.dumps(item.arguments, indent=2), soft_wrap=True)
    if item.decided_at:
        console.print(f"decided {item.decided_at}")
        if item.decided_arguments is not None and item.decided_arguments != item.arguments:
            console.print("ran with: " + json.dumps(item.decided_arguments, indent=2),
                          soft_wrap=True)
    if item.comment:
        console.print(f"comment: {item.comment}")


def _decided(item: ApprovalRead, json_out: bool) -> None:
    if json_out:
        emit(item)
    else:
        console.print(f"Approval {item.id} ({item.tool}) {item.status}.")


@approvals_app.command("ls")
@handles_errors
def list_approvals(
    status: str = typer.Option(None, help="pending, approved, denied, expired or cancelled"),
    everyone: bool = typer.Option(False, "--all", help="Everyone's (admins)"),
    limit: int = typer.Option(20, help="How many (newest first)"),
    json_out: bool = JsonOption,
) -> None:
    """Your approvals, newest first."""
    with connect() as gary:
        page = gary.approvals.list(status=status, scope="all" if everyone else "me",
                                   limit=min(limit, 100))
    if json_out:
        emit(page.items)
        return
    console.print(_table(page.items))
    console.print(f"[dim]{len(page.items)} of {page.total}[/dim]")


@approvals_app.command("show")
@handles_errors
def show(approval_id: str, json_out: bool = JsonOption) -> None:
    """One approval: the call, why it was asked, and its decision."""
    with connect() as gary:
        item = gary.approvals.get(approval_id)
    if json_out:
        emit(item)
    else:
        _describe(item)


@approvals_app.command("approve")
@handles_errors
def approve(
    approval_id: str,
    arguments: str = typer.Option(None, "--arguments", "-a", help="Edited arguments: a JSON "
                                  "object, or @FILE (@- for stdin); checked against the "
                                  "tool's schema"),
    comment: str = CommentOption,
    json_out: bool = JsonOption,
) -> None:
    """Let the call run (with edited arguments when given); the task resumes."""
    edited = parse_arguments(arguments) if arguments is not None else None
    with connect() as gary:
        item = gary.approvals.approve(approval_id, arguments=edited, comment=comment)
    _decided(item, json_out)


@approvals_app.command("deny")
@handles_errors
def deny(approval_id: str, comment: str = CommentOption, json_out: bool = JsonOption) -> None:
    """Refuse the call; the model is told (with your comment) and carries on."""
    with connect() as gary:
        item = gary.approvals.deny(approval_id, comment=comment)
    _decided(item, json_out)


@approvals_app.command("watch")
@handles_errors
def watch(
    task_id: str = typer.Option(None, "--task", help="Only this task's; stop when it ends"),
    json_out: bool = JsonOption,
) -> None:
    """Follow your events and ask y/n/e(dit)/s(kip) for each pending approval (the ones
    already waiting first). Ctrl-C or the end of input stops watching."""
    seen: set[str] = set()
    try:
        with connect() as gary, gary.events.subscribe() as sub:
            # read after subscribing: an approval asked from now on comes as an event
            for item in gary.approvals.iter(status="pending"):
                if task_id is None or item.task_id == task_id:
                    _ask(gary, item, seen, json_out)
            if task_id is not None and gary.tasks.get(task_id).status in FINAL_STATUSES:
                return
            for event in sub:
                data = event.data
                if task_id is not None and data.get("task_id") != task_id:
                    continue
                if event.event == "approval_requested" and data.get("status") == "pending":
                    _ask(gary, ApprovalRead.model_validate(data), seen, json_out)
                elif task_id is not None and task_ended(event):
                    return
    except (KeyboardInterrupt, typer.Abort, EOFError):
        err.print("Stopped watching; undecided approvals stay pending.")


def _ask(gary: Client, item: ApprovalRead, seen: set[str], json_out: bool) -> None:
    if item.id in seen:
        return
    seen.add(item.id)
    err.print(f"\n[bold]Task {item.task_id}[/bold] asks to run [cyan]{item.tool}[/cyan]"
              f"  [dim]{item.id} · expires {item.expires_at}[/dim]")
    if item.reason:
        err.print(f"  reason: {item.reason}")
    err.print("  arguments: " + json.dumps(item.arguments), soft_wrap=True)
    while True:
        choice = typer.prompt("Approve? [y]es / [n]o / [e]dit arguments / [s]kip",
                              err=True).strip().lower()[:1]
        try:
            if choice == "y":
                decided = gary.approvals.approve(item.id)
            elif choice == "n":
                note = typer.prompt("Comment for the model (empty: none)", default="",
                                    show_default=False, err=True)
                decided = gary.approvals.deny(item.id, comment=note or None)
            elif choice == "e":
                text = typer.prompt("Arguments (JSON object)", default=json.dumps(item.arguments),
                                    err=True)
                try:
                    edited = parse_arguments(text)
                except BadArguments as exc:
                    err.print(f"[red]{exc}[/red]")
                    continue
                decided = gary.approvals.approve(item.id, arguments=edited)
            elif choice == "s":
                err.print("  skipped: it stays pending")
                return
            else:
                continue
        except ValidationError as exc:
            err.print(f"[red]Refused:[/red] {exc.message}")
            for problem in exc.problems:
                err.print(f"  - {problem}")
            continue
        except ConflictError as exc:  # decided elsewhere, expired or cancelled meanwhile
            err.print(f"[yellow]{exc.message}[/yellow]")
            return
        if json_out:
            emit({"event": "approval_decided", "data": decided})
        else:
            err.print(f"  {decided.status}")
        return


__all__ = ["approvals_app", "parse_arguments"]
