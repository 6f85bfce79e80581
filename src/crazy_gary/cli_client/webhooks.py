"""`crazy-gary webhooks ls|create|show|enable|disable|rm|test|deliveries|redeliver`."""

from __future__ import annotations

import typer
from rich.table import Table

from crazy_gary.cli_client.output import JsonOption, connect, console, emit, handles_errors

webhooks_app = typer.Typer(help="Signed webhooks: be called when your tasks end.",
                           no_args_is_help=True)


@webhooks_app.command("ls")
@handles_errors
def list_webhooks(json_out: bool = JsonOption) -> None:
    """Your webhooks, newest first."""
    with connect() as gary:
        page = gary.webhooks.list(limit=100)
    if json_out:
        emit(page.items)
        return
    table = Table("id", "enabled", "events", "url", box=None)
    for hook in page.items:
        table.add_row(hook.id, "yes" if hook.enabled else "no", ", ".join(hook.events), hook.url)
    console.print(table)


@webhooks_app.command("create")
@handles_errors
def create(url: str = typer.Argument(..., help="http(s) URL to call"),
           events: list[str] = typer.Option(..., "--event", "-e",
                                            help="Event type (repeat or separate with commas)"),
           description: str = typer.Option(None, help="What it is for"),
           json_out: bool = JsonOption) -> None:
    """Subscribe a URL; prints the signing secret (shown this once)."""
    names = [e.strip() for item in events for e in item.split(",") if e.strip()]
    with connect() as gary:
        hook = gary.webhooks.create(url, names, description=description)
    if json_out:
        emit(hook)
        return
    console.print(f"[bold]Webhook[/bold] {hook.id} created")
    console.print(f"Signing secret (shown once): {hook.secret}", soft_wrap=True)


@webhooks_app.command("show")
@handles_errors
def show(webhook_id: str, json_out: bool = JsonOption) -> None:
    """One webhook."""
    with connect() as gary:
        emit(gary.webhooks.get(webhook_id))


def _set_enabled(webhook_id: str, enabled: bool) -> None:
    with connect() as gary:
        emit(gary.webhooks.update(webhook_id, enabled=enabled))


@webhooks_app.command("enable")
@handles_errors
def enable(webhook_id: str, json_out: bool = JsonOption) -> None:
    """Turn a webhook (back) on."""
    _set_enabled(webhook_id, True)


@webhooks_app.command("disable")
@handles_errors
def disable(webhook_id: str, json_out: bool = JsonOption) -> None:
    """Turn a webhook off (nothing is sent while it is off)."""
    _set_enabled(webhook_id, False)


@webhooks_app.command("rm")
@handles_errors
def remove(webhook_id: str, json_out: bool = JsonOption) -> None:
    """Delete a webhook and its deliveries."""
    with connect() as gary:
        gary.webhooks.delete(webhook_id)
    if not json_out:
        console.print(f"Webhook {webhook_id} deleted")


@webhooks_app.command("test")
@handles_errors
def send_test(webhook_id: str, json_out: bool = JsonOption) -> None:
    """Send a `webhook.test` message."""
    with connect() as gary:
        emit(gary.webhooks.test(webhook_id))


@webhooks_app.command("deliveries")
@handles_errors
def deliveries(webhook_id: str,
               status: str = typer.Option(None, help="queued, retrying, succeeded or failed"),
               json_out: bool = JsonOption) -> None:
    """The webhook's deliveries, newest first."""
    with connect() as gary:
        page = gary.webhooks.deliveries(webhook_id, status=status, limit=100)
    if json_out:
        emit(page.items)
        return
    table = Table("id", "event", "status", "attempts", "last code", "next attempt", box=None)
    for item in page.items:
        table.add_row(item.id, item.event, item.status, str(item.attempts),
                      str(item.last_response_code or "-"), item.next_attempt_at or "-")
    console.print(table)


@webhooks_app.command("redeliver")
@handles_errors
def redeliver(webhook_id: str, delivery_id: str, json_out: bool = JsonOption) -> None:
    """Send a finished delivery again (same webhook-id)."""
    with connect() as gary:
        emit(gary.webhooks.redeliver(webhook_id, delivery_id))
