"""`crazy-gary login`, `logout` and `token`."""

from __future__ import annotations

import typer

from crazy_gary.cli_client import config
from crazy_gary.cli_client.output import JsonOption, connect, console, emit, handles_errors
from crazy_gary.client import Client


@handles_errors
def login(
    url: str = typer.Option(None, "--url", help="Server URL (default: CRAZY_GARY_URL, the "
                            "stored one, or http://127.0.0.1:8000)"),
    email: str = typer.Option(None, "--email", help="Account email (prompted if omitted)"),
    json_out: bool = JsonOption,
) -> None:
    """Sign in and store the server URL and a refresh token (mode 0600)."""
    server = config.server_url(url)
    email = email or typer.prompt("Email")
    password = typer.prompt("Password", hide_input=True)
    with Client(server) as gary:
        answer = gary.auth.login(email, password)
        path = config.save(config.Credentials(url=server, refresh_token=gary.refresh_token,
                                              email=answer.user.email))
    if json_out:
        emit({"url": server, "user": answer.user, "credentials": str(path)})
    else:
        console.print(f"[green]Signed in[/green] to {server} as {answer.user.email} "
                      f"({answer.user.role}); credentials in {path}")


@handles_errors
def logout(json_out: bool = JsonOption) -> None:
    """End the stored session on the server and remove the stored credentials."""
    stored = config.load()
    revoked = False
    if stored and stored.refresh_token:
        try:
            with connect() as gary:
                gary.auth.logout()
                revoked = True
        finally:
            config.remove()
    removed = config.remove() or revoked
    if json_out:
        emit({"signed_out": removed, "revoked": revoked})
    else:
        console.print("Signed out." if removed else "Not signed in.")


@handles_errors
def token(json_out: bool = JsonOption) -> None:
    """Print a fresh access token (for CRAZY_GARY_TOKEN in scripts; valid for an hour)."""
    with connect() as gary:
        gary.auth.me()
        value = gary.token
    if json_out:
        emit({"token": value})
    else:
        print(value)


def register(app: typer.Typer) -> None:
    app.command()(login)
    app.command()(logout)
    app.command()(token)
