"""What every client command shares: a signed-in client, `--json` output, clean errors."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from pydantic_core import to_jsonable_python
from rich.console import Console

from crazy_gary.cli_client import config
from crazy_gary.client import ApiError, Client, CrazyGaryError, TransportError

F = TypeVar("F", bound=Callable[..., Any])
console = Console(highlight=False)
err = Console(stderr=True, highlight=False)

JsonOption = typer.Option(False, "--json", help="Print JSON (JSON lines when following)")


class NotSignedIn(CrazyGaryError):
    pass


def connect(*, signed_in: bool = True) -> Client:
    """A client for the configured server, resuming the stored session."""
    stored = config.load()
    url = config.server_url()
    token = os.environ.get("CRAZY_GARY_TOKEN")
    if token:
        return Client(url, token=token)
    refresh = stored.refresh_token if stored else None
    if signed_in and not refresh:
        raise NotSignedIn("Not signed in: run `crazy-gary login` (or set CRAZY_GARY_TOKEN)")

    def keep(_token: str | None, refresh_token: str | None) -> None:
        if stored is not None and refresh_token:  # refresh tokens rotate: keep the new one
            config.save(config.Credentials(url=stored.url, refresh_token=refresh_token,
                                           email=stored.email))

    return Client(url, refresh_token=refresh, on_tokens=keep)


def emit(value: Any) -> None:
    """One JSON document (or one line of JSON lines) on stdout."""
    sys.stdout.write(json.dumps(to_jsonable_python(value, by_alias=True)) + "\n")
    sys.stdout.flush()


def handles_errors(command: F) -> F:
    """Turn client errors into a message with the API's code and request id, exit 1."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ApiError as exc:
            if kwargs.get("json_out"):
                emit({"error": exc.message, "code": exc.code, "details": exc.details,
                      "request_id": exc.request_id, "status": exc.status_code})
            else:
                err.print(f"[red]Error:[/red] {exc.message}")
                for problem in exc.details.get("validation_errors", []):
                    err.print(f"  - {problem}")
                err.print(f"[dim]code {exc.code} · HTTP {exc.status_code} · "
                          f"request id {exc.request_id or '-'}[/dim]")
            raise typer.Exit(1) from None
        except TransportError as exc:
            _plain_error(kwargs, f"Cannot reach {config.server_url()}: {exc.__cause__ or exc}")
        except CrazyGaryError as exc:
            _plain_error(kwargs, str(exc))
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:  # a bug of ours: say so briefly (CRAZY_GARY_DEBUG shows it)
            if os.environ.get("CRAZY_GARY_DEBUG"):
                raise
            _plain_error(kwargs, f"unexpected {type(exc).__name__}: {exc} "
                         "(set CRAZY_GARY_DEBUG=1 for the traceback)")

    return run  # type: ignore[return-value]


def _plain_error(kwargs: dict[str, Any], message: str) -> None:
    if kwargs.get("json_out"):
        emit({"error": message, "code": "CLIENT_ERROR", "details": {}, "request_id": None})
    else:
        err.print(f"[red]Error:[/red] {message}")
    raise typer.Exit(1)
