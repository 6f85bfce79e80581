"""`crazy-gary tools ls|search|call` and `crazy-gary files ls|put|get|rm`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from crazy_gary.cli_client.output import JsonOption, connect, console, emit, handles_errors
from crazy_gary.client.models import Tool

tools_app = typer.Typer(help="The MCP tool catalogue.", no_args_is_help=True)
files_app = typer.Typer(help="Files of your workspace.", no_args_is_help=True)


def _tool_table(tools: list[Tool]) -> Table:
    table = Table("tool", "description", box=None)
    for tool in tools:
        table.add_row(f"{tool.client}.{tool.name}", (tool.description or "").splitlines()[0]
                      if tool.description else "")
    return table


@tools_app.command("ls")
@handles_errors
def list_tools(client: str = typer.Option(None, help="Only this MCP client's tools"),
               json_out: bool = JsonOption) -> None:
    """Every tool of every connected MCP client."""
    with connect() as gary:
        tools = list(gary.tools.iter(client=client))
    if json_out:
        emit(tools)
    else:
        console.print(_tool_table(tools))


@tools_app.command("search")
@handles_errors
def search(query: str, limit: int = typer.Option(10, help="How many"),
           json_out: bool = JsonOption) -> None:
    """Tools ranked by relevance to QUERY."""
    with connect() as gary:
        tools = gary.tools.search(query, limit=limit)
    if json_out:
        emit(tools)
    else:
        console.print(_tool_table(tools))


def parse_args(pairs: list[str]) -> dict[str, Any]:
    """`k=v` pairs; a value that is JSON (numbers, true, lists, objects) is decoded."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--arg")
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


@tools_app.command("call")
@handles_errors
def call(
    name: str = typer.Argument(..., metavar="CLIENT.TOOL", help="e.g. workspace.read_file"),
    arg: list[str] = typer.Option(None, "--arg", "-a", help="KEY=VALUE (repeatable)"),
    timeout: float = typer.Option(None, help="Seconds the tool may take"),
    json_out: bool = JsonOption,
) -> None:
    """Run one tool now (exit 1 when the tool reports a failure)."""
    client, sep, tool = name.partition(".")
    if not sep or not tool:
        raise typer.BadParameter("give CLIENT.TOOL, e.g. workspace.list_files",
                                 param_hint="CLIENT.TOOL")
    with connect() as gary:
        result = gary.tools.execute(client, tool, parse_args(arg or []), time_limit=timeout)
    if json_out:
        emit(result)
    elif result.success:
        value = result.result
        console.print(value if isinstance(value, str) else json.dumps(value, indent=2),
                      markup=False)
        console.print(f"[dim]{name} · {result.latency_ms:.0f} ms[/dim]")
    else:
        console.print(f"[red]{name} failed:[/red] {result.error}", markup=True)
    if not result.success:
        raise typer.Exit(1)


@files_app.command("ls")
@handles_errors
def list_files(prefix: str = typer.Argument(None, help="Directory to list"),
               json_out: bool = JsonOption) -> None:
    """Files of your workspace with sizes."""
    with connect() as gary:
        files = list(gary.files.iter(prefix=prefix))
    if json_out:
        emit(files)
        return
    table = Table("path", "size", "modified", box=None)
    for item in files:
        table.add_row(item.path, str(item.size), item.modified)
    console.print(table)


@files_app.command("put")
@handles_errors
def put(local: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
        remote: str = typer.Argument(None, help="Path in the workspace (default: the "
                                     "file's name; ending in / = into that directory)"),
        json_out: bool = JsonOption) -> None:
    """Upload a file."""
    with connect() as gary:
        stored = gary.files.upload(local, remote)
    if json_out:
        emit(stored)
    else:
        console.print(f"uploaded {local} → {stored.path} ({stored.size} bytes)")


@files_app.command("get")
@handles_errors
def get(remote: str, local: str = typer.Argument(None, help="Where to write (default: the "
                                                 "file's name here; - for stdout)"),
        json_out: bool = JsonOption) -> None:
    """Download a file."""
    with connect() as gary:
        if local == "-":
            sys.stdout.buffer.write(gary.files.download(remote))
            sys.stdout.flush()
            return
        target = gary.files.download_to(remote, local or Path(remote).name)
    size = Path(target).stat().st_size
    if json_out:
        emit({"path": remote, "saved_to": str(target), "size": size})
    else:
        console.print(f"downloaded {remote} → {target} ({size} bytes)")


@files_app.command("rm")
@handles_errors
def remove(remote: str, json_out: bool = JsonOption) -> None:
    """Delete a file or a directory."""
    with connect() as gary:
        gary.files.delete(remote)
    if json_out:
        emit({"deleted": remote})
    else:
        console.print(f"deleted {remote}")
