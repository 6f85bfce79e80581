"""References from one step's parameters to an earlier step's result.

`"$steps.2.result"` as a whole value is replaced by step 2's result (any JSON type);
a path goes deeper (`"$steps.1.result.summary.total_issues"`, list items by index);
inside a longer string the reference is replaced by the value's text.
"""

from __future__ import annotations

import json
import re
from typing import Any

REF = re.compile(r"\$steps\.(\d+)\.result((?:\.[A-Za-z0-9_\-]+)*)")


class ReferenceError_(ValueError):
    """A reference that cannot be resolved at run time."""


def referenced_steps(value: Any) -> set[int]:
    """Every step number referenced anywhere inside a parameter value."""
    found: set[int] = set()
    if isinstance(value, str):
        found.update(int(m.group(1)) for m in REF.finditer(value))
    elif isinstance(value, dict):
        for v in value.values():
            found |= referenced_steps(v)
    elif isinstance(value, list):
        for v in value:
            found |= referenced_steps(v)
    return found


def resolve(value: Any, results: dict[int, Any]) -> Any:
    """`value` with every reference replaced by what it names in `results`."""
    if isinstance(value, str):
        whole = REF.fullmatch(value)
        if whole:
            return _lookup(results, int(whole.group(1)), whole.group(2))
        return REF.sub(lambda m: _text(_lookup(results, int(m.group(1)), m.group(2))), value)
    if isinstance(value, dict):
        return {k: resolve(v, results) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, results) for v in value]
    return value


def _lookup(results: dict[int, Any], step: int, path: str) -> Any:
    if step not in results:
        raise ReferenceError_(f"step {step} has no result")
    value = results[step]
    for part in [p for p in path.split(".") if p]:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.lstrip("-").isdigit() and -len(value) <= int(
                part) < len(value):
            value = value[int(part)]
        else:
            raise ReferenceError_(
                f"$steps.{step}.result{path}: no '{part}' in step {step}'s result")
    return value


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)
