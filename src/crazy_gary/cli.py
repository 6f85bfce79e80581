"""The `crazy-gary` command: serve, worker, migrate, create-admin."""

from __future__ import annotations

import asyncio
import getpass
import logging
import os
import signal

import typer
from rich.console import Console

from crazy_gary import runtime
from crazy_gary.config import get_settings

log = logging.getLogger(__name__)

# How long a stopping `serve` spends telling the cluster and its stream clients it is
# leaving before uvicorn's own shutdown starts.
DRAIN_NOTICE_SECONDS = 5.0

app = typer.Typer(help="Crazy Gary: a self-hostable backend for autonomous AI agents.",
                  no_args_is_help=True)
console = Console()


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to bind"),
    port: int = typer.Option(8000, help="Port to listen on"),
    log_level: str = typer.Option("info", help="uvicorn log level"),
) -> None:
    """Run the API (with durable workers and schedulers) in one process."""
    # deferred: the server stack loads only for the commands that run it (the client
    # commands of this CLI start quickly).
    import uvicorn

    from crazy_gary.asgi import build_asgi
    from crazy_gary.startup import drain

    settings = get_settings()

    class DrainingServer(uvicorn.Server):
        """uvicorn, draining the runtime at the first SIGTERM/Ctrl-C: no new work and no
        new model or tool call at once, event streams told to reconnect; only then does
        uvicorn's own shutdown start (it closes open websockets at once, which would cut
        the socket.io clients off before they hear `reconnect`). The lifespan's shutdown
        then waits for the calls in flight (SHUTDOWN_GRACE_SECONDS) and marks this
        executor gone. A second signal goes straight to uvicorn."""

        draining: asyncio.Future[None] | None = None

        def handle_exit(self, sig: int, frame: object) -> None:
            current = runtime.running()
            if current is None or self.draining is not None:
                super().handle_exit(sig, frame)  # type: ignore[arg-type]
                return
            asyncio.get_event_loop().call_soon_threadsafe(self._drain, current, sig, frame)

        def _drain(self, current: runtime.Runtime, sig: int, frame: object) -> None:
            if self.draining is None:
                self.draining = asyncio.ensure_future(self._drain_then_exit(current, sig, frame))

        async def _drain_then_exit(self, current: runtime.Runtime, sig: int,
                                   frame: object) -> None:
            try:
                await asyncio.wait_for(drain(current), DRAIN_NOTICE_SECONDS)
            except Exception as exc:  # the shutdown goes on regardless
                log.warning("drain before shutdown failed: %s", exc)
            finally:
                super().handle_exit(sig, frame)  # type: ignore[arg-type]

    # Forwarded headers only from the proxies the operator lists (FORWARDED_ALLOW_IPS).
    config = uvicorn.Config(build_asgi(settings), host=host, port=port, log_level=log_level,
                            proxy_headers=bool(settings.forwarded_allow_ips),
                            forwarded_allow_ips=settings.forwarded_allow_ips or None)
    DrainingServer(config).run()


@app.command()
def worker() -> None:
    """Run only the durable engine (agent tasks and other queued work), no HTTP."""
    # deferred: the server stack loads only for the commands that run it.
    from crazy_gary.kit.redaction import install_log_redaction
    from crazy_gary.startup import start_runtime

    settings = get_settings()
    if settings.task_worker_concurrency == 0:
        console.print("[red]TASK_WORKER_CONCURRENCY=0 leaves a worker nothing to run; "
                      "set it above 0 (0 is for API-only `serve` processes)[/red]")
        raise typer.Exit(2)
    install_log_redaction()

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        # migrates, connects and launches the engine; leaving, it drains (docs/scaling.md)
        async with start_runtime(settings, kind="worker"):
            console.print(f"[green]worker {settings.executor_id} running[/green]")
            await stop.wait()

    asyncio.run(run())


@app.command()
def migrate() -> None:
    """Apply database migrations."""
    from crazy_gary.migrations import upgrade  # deferred: Alembic loads only to migrate

    settings = get_settings()
    upgrade(settings.sqlalchemy_url)
    console.print(f"[green]database up to date[/green] ({settings.sqlalchemy_url.split('@')[-1]})")


@app.command("create-admin")
def create_admin(
    email: str = typer.Option(..., help="Admin email"),
    name: str = typer.Option("", help="Display name"),
    password_env: str = typer.Option(
        "CRAZY_GARY_ADMIN_PASSWORD", help="Environment variable read instead of prompting"
    ),
) -> None:
    """Create an administrator (or promote an existing user and set the password)."""
    # deferred: the server stack loads only for the commands that run it.
    from crazy_gary.errors import AppError
    from crazy_gary.users.bootstrap import ensure_admin

    password = os.environ.get(password_env) or _prompt_password()
    settings = get_settings()
    try:
        user_id = asyncio.run(ensure_admin(settings, email=email, password=password, name=name))
    except AppError as exc:  # shown to the operator, not a client
        console.print(f"[red]{exc.message}[/red]")
        for problem in exc.details.get("validation_errors", []):
            console.print(f"  - {problem}")
        raise typer.Exit(1) from exc
    except Exception as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"[green]admin ready[/green] id={user_id} email={email.lower()}")


def _prompt_password() -> str:
    """Ask twice (without echo on a terminal) so a typo does not lock the admin out."""
    password = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != password:
        console.print("[red]The passwords differ[/red]")
        raise typer.Exit(1)
    return password


from crazy_gary.cli_client import register as register_client_commands  # noqa: E402

register_client_commands(app)

if __name__ == "__main__":
    app()
