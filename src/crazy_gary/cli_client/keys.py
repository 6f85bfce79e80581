"""`crazy-gary keys create|list|delete`: API keys for scripts and CI."""

from __future__ import annotations

import typer
from rich.table import Table

from crazy_gary.cli_client.output import JsonOption, connect, console, emit, handles_errors

keys_app = typer.Typer(help="API keys (cg_...) for automation; use one as CRAZY_GARY_TOKEN.",
                       no_args_is_help=True)


@keys_app.command("create")
@handles_errors
def create_key(
    name: str = typer.Argument(..., help="What the key is for"),
    scopes: list[str] = typer.Option(..., "--scope", help="A scope (tasks:read, tasks:write, "
                                     "chat, ...); repeat or separate with commas"),
    expires_in_days: int = typer.Option(None, "--expires-in-days",
                                        help="Days until it stops working (default: never)"),
    json_out: bool = JsonOption,
) -> None:
    """Create a key; its secret is printed once (the server keeps only a hash)."""
    wanted = [s.strip() for item in scopes for s in item.split(",") if s.strip()]
    with connect() as gary:
        key = gary.auth.create_api_key(name, wanted, expires_in_days=expires_in_days)
    if json_out:
        emit(key)
        return
    console.print(f"[green]Created[/green] key {key.id} ({', '.join(key.scopes)}); "
                  "store this secret now, it is not shown again:")
    print(key.key)


@keys_app.command("list")
@handles_errors
def list_keys(json_out: bool = JsonOption) -> None:
    """Your keys (never their secrets)."""
    with connect() as gary:
        keys = gary.auth.list_api_keys()
    if json_out:
        emit(keys)
        return
    table = Table("id", "name", "prefix", "scopes", "created", "expires", "last used",
                  box=None)
    for key in keys:
        table.add_row(key.id, key.name, key.prefix, " ".join(key.scopes), key.created_at,
                      key.expires_at or "never", key.last_used_at or "-")
    console.print(table)


@keys_app.command("delete")
@handles_errors
def delete_key(key_id: str = typer.Argument(..., help="The key's id (see `keys list`)"),
               json_out: bool = JsonOption) -> None:
    """Delete a key: it stops working at once."""
    with connect() as gary:
        gary.auth.delete_api_key(key_id)
    if json_out:
        emit({"deleted": key_id})
    else:
        console.print(f"Deleted key {key_id}.")
