"""References from one step's parameters to an earlier step's result.

`"$steps.2.result"` as a whole value is replaced by step 2's result (any JSON type);
a path goes deeper (`"$steps.1.result.summary.total_issues"`, list items by index);
inside a longer string the reference is replaced by the value's text.

Expansion is bounded: a step could repeat an earlier result many times, and the next step
repeat that, multiplying memory with each step. The resolved parameters may be at most
`limit` bytes of JSON (HEAVY_MAX_PARAMETERS_BYTES); the size is counted while resolving,
before any oversized text is built, and going over it fails the step.
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


class TooLarge(ReferenceError_):
    """Resolved parameters over the size limit."""


class _Budget:
    """Characters left for the resolved value; each reference's text measured once."""

    def __init__(self, limit: int) -> None:
        self.limit, self.left = limit, limit
        self._texts: dict[tuple[int, str], str] = {}

    def spend(self, chars: int) -> None:
        self.left -= chars
        if self.left < 0:
            raise TooLarge(f"the parameters are larger than the limit of {self.limit} bytes "
                           "once references to earlier results are filled in")

    def text(self, results: dict[int, Any], step: int, path: str) -> str:
        key = (step, path)
        if key not in self._texts:
            self._texts[key] = _text(_lookup(results, step, path))
        return self._texts[key]


def resolve(value: Any, results: dict[int, Any], *, limit: int) -> Any:
    """`value` with every reference replaced by what it names in `results`; TooLarge when
    the result would be over `limit` bytes of JSON."""
    resolved = _resolve(value, results, _Budget(limit))
    size = len(json.dumps(resolved, default=str).encode())
    if size > limit:
        raise TooLarge(f"the parameters are {size} bytes once references to earlier results "
                       f"are filled in; the limit is {limit} bytes")
    return resolved


def _resolve(value: Any, results: dict[int, Any], budget: _Budget) -> Any:
    if isinstance(value, str):
        whole = REF.fullmatch(value)
        if whole:
            step, path = int(whole.group(1)), whole.group(2)
            budget.spend(len(budget.text(results, step, path)))
            return _lookup(results, step, path)
        pieces, end = [], 0
        for m in REF.finditer(value):
            literal = value[end:m.start()]
            text = budget.text(results, int(m.group(1)), m.group(2))
            budget.spend(len(literal) + len(text))
            pieces += [literal, text]
            end = m.end()
        budget.spend(len(value) - end)
        return "".join(pieces) + value[end:]
    if isinstance(value, dict):
        return {k: _resolve(v, results, budget) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, results, budget) for v in value]
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
