"""The client commands of `crazy-gary` (login, run, tasks, chat, tools, files, …).

They talk to a server over HTTP with `crazy_gary.client`; see docs/cli.md.
"""

from __future__ import annotations

import typer

from crazy_gary.cli_client import account
from crazy_gary.cli_client.approvals import approvals_app
from crazy_gary.cli_client.chat import chat
from crazy_gary.cli_client.keys import keys_app
from crazy_gary.cli_client.ops import endpoints_app, health, heavy_app
from crazy_gary.cli_client.schedules import schedules_app
from crazy_gary.cli_client.tasks import run, tasks_app
from crazy_gary.cli_client.tools import files_app, tools_app
from crazy_gary.cli_client.usage import quota, usage
from crazy_gary.cli_client.webhooks import webhooks_app


def register(app: typer.Typer) -> None:
    """Add the client commands to the `crazy-gary` app."""
    account.register(app)
    app.command()(run)
    app.command()(chat)
    app.command()(health)
    app.command()(usage)
    app.command()(quota)
    app.add_typer(tasks_app, name="tasks")
    app.add_typer(endpoints_app, name="endpoints")
    app.add_typer(tools_app, name="tools")
    app.add_typer(files_app, name="files")
    app.add_typer(heavy_app, name="heavy")
    app.add_typer(keys_app, name="keys")
    app.add_typer(schedules_app, name="schedules")
    app.add_typer(webhooks_app, name="webhooks")
    app.add_typer(approvals_app, name="approvals")
