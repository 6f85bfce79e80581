"""Tool policies: which calls run (`allow`), wait for a person (`ask`) or never run (`deny`).

A policy is an ordered list of rules `(glob, action)` matched against `client.tool`; the
first matching rule wins. A server's rules come from its `"approval"` key in mcp.json, a
task's from its `tool_policy`. The two combine strictly: `deny` anywhere wins, then `ask`;
a task can tighten its servers' policy, never loosen it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from crazy_gary.kit.patterns import glob_match

ACTIONS = ("allow", "ask", "deny")
STRICTNESS = {"allow": 0, "ask": 1, "deny": 2}
MAX_GLOB_CHARS = 200

GLOB_PATTERN = r"^[A-Za-z0-9_.*?/:-]+$"
Rules = tuple[tuple[str, str], ...]

# A task's `tool_policy` as JSON Schema (for bodies checked by schema, e.g. heavy steps).
TOOL_POLICY_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "default": {"enum": list(ACTIONS)},
        "rules": {"type": "array", "maxItems": 100, "items": {
            "type": "object", "additionalProperties": False, "required": ["match", "action"],
            "properties": {"match": {"type": "string", "minLength": 1,
                                     "maxLength": MAX_GLOB_CHARS, "pattern": GLOB_PATTERN},
                           "action": {"enum": list(ACTIONS)}}}},
    },
}


# `client.tool` names: letters, digits, `_ - . / :` and the wildcards `*` and `?`.
_GLOB_OK = re.compile(GLOB_PATTERN)


class PolicyError(ValueError):
    """A rule names an unknown action or a malformed glob."""


def check_action(action: Any, where: str) -> str:
    if action not in ACTIONS:
        raise PolicyError(f"{where}: unknown action {action!r} (expected allow, ask or deny)")
    return str(action)


def check_glob(glob: Any, where: str) -> str:
    if not isinstance(glob, str) or not glob or len(glob) > MAX_GLOB_CHARS \
            or _GLOB_OK.fullmatch(glob) is None:
        raise PolicyError(f"{where}: malformed glob {glob!r} (use letters, digits, '_-./:' "
                          f"and the wildcards '*' and '?', at most {MAX_GLOB_CHARS} characters)")
    return glob


def server_rules(server: str, raw: Any) -> Rules:
    """An mcp.json `"approval"`: one action for all the server's tools, or {glob: action}.
    A bare glob (no dot) is matched against the tool name within this server."""
    if raw is None:
        return ()
    where = f"server {server!r} approval"
    if isinstance(raw, str):
        return (("*", check_action(raw, where)),)
    if not isinstance(raw, dict) or not raw:
        raise PolicyError(f"{where}: expected \"allow\", \"ask\", \"deny\" or an object of "
                          "{glob: action}")
    rules = []
    for glob, action in raw.items():
        check_glob(glob, where)
        rules.append((glob if "." in glob else f"{server}.{glob}",
                      check_action(action, f"{where} {glob!r}")))
    return tuple(rules)


def first_match(rules: Iterable[tuple[str, str]], full_name: str) -> str | None:
    for glob, action in rules:
        if glob_match(full_name, glob):
            return action
    return None


def stricter(*actions: str | None) -> str:
    """The strictest of the given actions (None: no opinion)."""
    given = [a for a in actions if a is not None]
    return max(given, key=STRICTNESS.__getitem__) if given else "allow"


def decide(full_name: str, *, server: Rules, destructive: bool, server_default: str,
           task_rules: Rules = (), task_default: str | None = None) -> str:
    """The action for one call of `full_name` (`client.tool`).

    Server side: its first matching rule, else `ask` for a destructive tool, else the
    server-wide default (TOOL_APPROVAL_DEFAULT). Task side: its first matching rule, else
    its default. The stricter of the two applies."""
    on_server = first_match(server, full_name)
    if on_server is None:
        on_server = stricter(server_default, "ask" if destructive else None)
    on_task = first_match(task_rules, full_name)
    if on_task is None:
        on_task = task_default
    return stricter(on_server, on_task)
