"""`crazy-gary chat`: talk with the agent, the answer streamed token by token."""

from __future__ import annotations

import sys

import typer

from crazy_gary.cli_client.output import JsonOption, connect, console, emit, err, handles_errors
from crazy_gary.client import ApiError, Client

QUIT = ("exit", "quit", "/exit", "/quit")


@handles_errors
def chat(
    message: str = typer.Argument(None, help="One message (otherwise an interactive chat)"),
    conversation: str = typer.Option(None, "--conversation", help="Continue this "
                                     "conversation id"),
    model: str = typer.Option(None, help="gpt-oss-120b (default) or gpt-oss-20b"),
    json_out: bool = JsonOption,
) -> None:
    """Chat with the agent; answers stream as they are written. Ctrl-D or `exit` ends."""
    with connect() as gary:
        if message is not None:
            _turn(gary, message, conversation, model, json_out)
            return
        interactive = sys.stdin.isatty()
        if interactive and not json_out:
            err.print("[dim]Chat with Crazy Gary (Ctrl-D or `exit` to leave)[/dim]")
        while True:
            try:
                line = console.input("[bold cyan]you>[/bold cyan] ") if interactive else input()
            except (EOFError, KeyboardInterrupt):
                if interactive:
                    err.print()
                break
            if line.strip().lower() in QUIT:
                break
            if not line.strip():
                continue
            try:
                conversation = _turn(gary, line, conversation, model, json_out)
            except ApiError as exc:  # one failed turn does not end the chat
                err.print(f"[red]Error:[/red] {exc.message} [dim](code {exc.code}, request id "
                          f"{exc.request_id})[/dim]")
        if conversation and not json_out:
            err.print(f"[dim]conversation {conversation}: continue with "
                      f"`crazy-gary chat --conversation {conversation}`[/dim]")


def _turn(gary: Client, message: str, conversation: str | None, model: str | None,
          json_out: bool) -> str | None:
    stream = gary.chat.stream(message, conversation_id=conversation, model=model)
    answered: str | None  # the sync client proxies its areas untyped (Any)
    try:
        if json_out:
            for _ in stream:
                pass
        else:
            tokens = iter(stream)
            with console.status("[dim]waiting for the model…[/dim]"):  # a waking model is slow
                first = next(tokens, "")
            console.print("[bold magenta]gary>[/bold magenta] ", end="")
            console.print(first, end="", soft_wrap=True, markup=False)
            for token in tokens:
                console.print(token, end="", soft_wrap=True, markup=False)
    except KeyboardInterrupt:
        err.print("\n[yellow]answer interrupted[/yellow]")
        answered = stream.conversation_id
        return answered
    if json_out:
        emit(stream.done)
    else:
        console.print()
    answered = stream.conversation_id
    return answered
