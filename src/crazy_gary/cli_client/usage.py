"""`crazy-gary usage` and `crazy-gary quota`."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from crazy_gary.cli_client.output import JsonOption, connect, console, emit, handles_errors

UNLIMITED = ("none", "null", "unlimited")


@handles_errors
def usage(
    start: str = typer.Option(None, "--from", help="Start, ISO date (default: this month)"),
    end: str = typer.Option(None, "--to", help="End, ISO date, exclusive (default: now)"),
    group_by: str = typer.Option(None, "--group-by", help="day, model, tool or user"),
    user_id: int = typer.Option(None, "--user-id", help="Another user's usage (admins)"),
    everyone: bool = typer.Option(False, "--all", help="Every user's usage (admins)"),
    json_out: bool = JsonOption,
) -> None:
    """Tokens, cost, tasks, model calls and tool calls over a period."""
    with connect() as gary:
        report = gary.usage.report(start=start, end=end, group_by=group_by, user_id=user_id,
                                   everyone=everyone)
    if json_out:
        emit(report)
        return
    table = Table("group" if group_by else "", "prompt", "completion", "cost USD", "tasks",
                  "model calls", "tool calls")
    for row in report.groups:
        table.add_row(*_cells(row.key if row.key is not None else "-", row))
    table.add_row(*_cells("total", report.totals), style="bold")
    who = "everyone" if report.user_id is None else f"user {report.user_id}"
    console.print(f"Usage of {who}, {report.from_:%Y-%m-%d %H:%M} to {report.to:%Y-%m-%d %H:%M}"
                  " UTC")
    console.print(table)


def _cells(label: str, figures: Any) -> list[str]:
    return [label, str(figures.prompt_tokens), str(figures.completion_tokens),
            f"{figures.cost_usd:.6f}", str(figures.tasks), str(figures.model_calls),
            str(figures.tool_calls)]


def _limit(value: str | None, kind: type[int] | type[float]) -> int | float | None:
    if value is None or value.lower() in UNLIMITED:
        return None
    try:
        return kind(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a number (or `none`)") from None


@handles_errors
def quota(
    user_id: int = typer.Option(None, "--user-id", help="Another user's quota (admins)"),
    tokens: str = typer.Option(None, "--set-tokens",
                               help="Set the monthly token limit (`none`: unlimited; admins)"),
    cost: str = typer.Option(None, "--set-cost",
                             help="Set the monthly cost limit, USD (`none`: unlimited; admins)"),
    json_out: bool = JsonOption,
) -> None:
    """Monthly limits, what this month has used, and when it resets."""
    changes: dict[str, Any] = {}
    if tokens is not None:
        changes["monthly_tokens"] = _limit(tokens, int)
    if cost is not None:
        changes["monthly_cost_usd"] = _limit(cost, float)
    if changes and user_id is None:
        raise typer.BadParameter("--set-tokens/--set-cost need --user-id")
    with connect() as gary:
        if changes:
            standing = gary.usage.set_quota(user_id, **changes)
        elif user_id is not None:
            standing = gary.usage.quota(user_id)
        else:
            standing = gary.usage.my_quota()
    if json_out:
        emit(standing)
        return
    limit_tokens = "unlimited" if standing.monthly_tokens is None else standing.monthly_tokens
    limit_cost = ("unlimited" if standing.monthly_cost_usd is None
                  else f"{standing.monthly_cost_usd} USD")
    console.print(f"User {standing.user_id}, {standing.period}: "
                  f"tokens {standing.used.tokens} of {limit_tokens}, "
                  f"cost {standing.used.cost_usd:.6f} USD of {limit_cost}; "
                  f"resets {standing.resets_at:%Y-%m-%d %H:%M} UTC")
    if standing.exceeded:
        console.print(f"[red]Used up:[/red] {', '.join(standing.exceeded)}")
