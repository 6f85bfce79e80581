"""The agent's view of the tool hub: which tools it is offered, and how a call is read.

The model sees each tool as an OpenAI function named `<client>__<tool>`; the toolset
maps that name back to the hub's `Tool`. A call's parameters are checked against the
tool's schema once, by the hub when it executes the call. Malformed calls are answered
with an error text the model can correct, never raised.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from crazy_gary.agent.ports import OfferedTool, Toolset
from crazy_gary.kit.patterns import glob_match
from crazy_gary.toolhub.types import Tool

SEPARATOR = "__"
_NAME_OK = re.compile(r"[^A-Za-z0-9_-]")


def function_name(client: str, name: str) -> str:
    return _NAME_OK.sub("_", f"{client}{SEPARATOR}{name}")[:64]


def allowed(tool: Tool, allow: list[str] | None) -> bool:
    """An allow-list entry is `client.tool`, `client.*`, or a bare tool name."""
    if allow is None:
        return True
    full = f"{tool.client}.{tool.name}"
    return any(glob_match(full, pattern) or pattern == tool.name for pattern in allow)


def toolset(tools: list[Tool]) -> Toolset:
    """The tools offered, each under its function name (the first of a clashing name wins)."""
    offered: dict[str, OfferedTool] = {}
    for tool in tools:
        fn = function_name(tool.client, tool.name)
        offered.setdefault(fn, OfferedTool(fn, tool))
    return Toolset(list(offered.values()))


@dataclass(frozen=True)
class ReadCall:
    """A model's call read against the toolset: the tool and its parameters, or an error."""

    tool: Tool | None
    params: dict[str, Any] | None
    error: str | None


def read_call(name: str, arguments: str | None, offered: Toolset) -> ReadCall:
    """The offered tool a call names and its JSON arguments (schema checks are the hub's)."""
    tool = offered.find(name)
    if tool is None:
        names = ", ".join(offered.names()) or "none"
        return ReadCall(None, None, f"Error: unknown tool '{name}'. Available tools: {names}.")
    try:
        params = json.loads(arguments) if arguments and arguments.strip() else {}
    except ValueError as exc:
        return ReadCall(tool, None, f"Error: the arguments of {name} are not valid JSON ({exc}). "
                                    "Send a JSON object matching the tool's parameters.")
    if not isinstance(params, dict):
        return ReadCall(tool, None, f"Error: the arguments of {name} must be a JSON object.")
    return ReadCall(tool, params, None)


def truncate(text: str, limit: int) -> str:
    """Long tool output is cut, with a note saying how much was left out."""
    if len(text) <= limit:
        return text
    return (text[:limit] + f"\n\n[output truncated: showing {limit} of {len(text)} characters]")


def render_result(result: Any) -> str:
    if isinstance(result, str):
        return result
    try:
        return json.dumps(result, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(result)
