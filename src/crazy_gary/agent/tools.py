"""The agent's view of the tool hub: which tools it is offered, and how a call is checked.

The model sees each tool as an OpenAI function named `<client>__<tool>`; the index
maps that name back to the hub's (client, tool). Malformed calls are answered with an
error text the model can correct, never raised.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import jsonschema

from crazy_gary.kit.patterns import glob_match

SEPARATOR = "__"
_NAME_OK = re.compile(r"[^A-Za-z0-9_-]")


def _field(tool: Any, *names: str, default: Any = None) -> Any:
    for name in names:
        value = tool.get(name) if isinstance(tool, dict) else getattr(tool, name, None)
        if value is not None:
            return value
    return default


def describe(tool: Any) -> dict[str, Any]:
    """A hub tool as a plain dict: client, name, description, schema."""
    schema = _field(tool, "input_schema", "inputSchema", "parameters", "schema",
                    default={"type": "object", "properties": {}})
    return {
        "client": str(_field(tool, "client", "client_name", "server", default="workspace")),
        "name": str(_field(tool, "name", "tool", default="")),
        "description": str(_field(tool, "description", default=""))[:1000],
        "schema": schema if isinstance(schema, dict) else {"type": "object"},
    }


def function_name(client: str, name: str) -> str:
    return _NAME_OK.sub("_", f"{client}{SEPARATOR}{name}")[:64]


def allowed(tool: dict[str, Any], allow: list[str] | None) -> bool:
    """An allow-list entry is `client.tool`, `client.*`, or a bare tool name."""
    if allow is None:
        return True
    full = f"{tool['client']}.{tool['name']}"
    return any(glob_match(full, pattern) or pattern == tool["name"] for pattern in allow)


def toolset(tools: list[dict[str, Any]]) -> dict[str, Any]:
    """OpenAI `tools` and the index from function name to (client, tool, schema)."""
    schemas, index = [], {}
    for tool in tools:
        fn = function_name(tool["client"], tool["name"])
        if fn in index:
            continue
        index[fn] = {"client": tool["client"], "tool": tool["name"], "schema": tool["schema"]}
        schemas.append({"type": "function", "function": {
            "name": fn, "description": tool["description"] or tool["name"],
            "parameters": tool["schema"]}})
    return {"schemas": schemas, "index": index}


@dataclass
class CheckedCall:
    client: str | None
    tool: str | None
    params: dict[str, Any] | None
    error: str | None


def check_call(name: str, arguments: str | None, index: dict[str, Any]) -> CheckedCall:
    """Validate a model's tool call against the offered tools and their schemas."""
    entry = index.get(name)
    if entry is None:
        offered = ", ".join(sorted(index)) or "none"
        return CheckedCall(None, None, None,
                           f"Error: unknown tool '{name}'. Available tools: {offered}.")
    try:
        params = json.loads(arguments) if arguments and arguments.strip() else {}
    except ValueError as exc:
        return CheckedCall(entry["client"], entry["tool"], None,
                           f"Error: the arguments of {name} are not valid JSON ({exc}). "
                           "Send a JSON object matching the tool's parameters.")
    if not isinstance(params, dict):
        return CheckedCall(entry["client"], entry["tool"], None,
                           f"Error: the arguments of {name} must be a JSON object.")
    try:
        jsonschema.validate(params, entry["schema"] or {"type": "object"})
    except jsonschema.ValidationError as exc:
        return CheckedCall(entry["client"], entry["tool"], params,
                           f"Error: invalid arguments for {name}: {exc.message}.")
    except jsonschema.SchemaError:
        pass  # a server's broken schema is not the model's fault
    return CheckedCall(entry["client"], entry["tool"], params, None)


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
