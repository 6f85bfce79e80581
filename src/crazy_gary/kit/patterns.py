"""Regular expressions and globs from users or models: matched in linear time.

Python's `re` backtracks: a pattern like `(a+)+$` takes exponential time on a short line
and holds the GIL meanwhile, freezing the whole process (timeouts around a thread do not
help). Every pattern that does not come from this code base goes through here and runs
on RE2, which never backtracks: matching time grows linearly with the text. RE2 has no
backreferences or look-arounds; a pattern it refuses is searched as literal text.
Python's `re` stays for the code's own fixed patterns.
"""

from __future__ import annotations

import functools
from typing import Any, Protocol

import re2

MAX_PATTERN_CHARS = 1000
# Memory RE2 may use for one compiled pattern: bounds `x{1000}{1000}`-style blow-ups.
MAX_PROGRAM_BYTES = 8 * 1024 * 1024


class Matcher(Protocol):
    def search(self, text: str) -> object | None: ...


class PatternTooLong(ValueError):
    """A pattern over MAX_PATTERN_CHARS characters."""


def _options(case_sensitive: bool, literal: bool) -> re2.Options:
    options = re2.Options()
    options.log_errors = False
    options.max_mem = MAX_PROGRAM_BYTES
    options.case_sensitive = case_sensitive
    options.literal = literal
    return options


def untrusted_regex(pattern: str, *, case_sensitive: bool = True,
                    literal_fallback: bool = True) -> Matcher:
    """A compiled, linear-time matcher for a user- or model-supplied regular expression.

    A pattern RE2 cannot compile is matched as literal text with `literal_fallback`,
    otherwise ValueError is raised with RE2's reason.
    """
    if len(pattern) > MAX_PATTERN_CHARS:
        raise PatternTooLong(f"pattern longer than {MAX_PATTERN_CHARS} characters")
    try:
        matcher: Matcher = re2.compile(pattern, options=_options(case_sensitive, literal=False))
        return matcher
    except re2.error as exc:
        if not literal_fallback:
            reason = exc.args[0] if exc.args else exc
            if isinstance(reason, bytes):
                reason = reason.decode(errors="replace")
            raise ValueError(f"invalid regular expression: {reason}") from None
    literal: Matcher = re2.compile(pattern, options=_options(case_sensitive, literal=True))
    return literal


def glob_match(name: str, pattern: str) -> bool:
    """Shell-style match of the whole `name`: `*` any run of characters, `?` one character,
    everything else literal (case-sensitive)."""
    if len(pattern) > MAX_PATTERN_CHARS:
        return False
    return _glob(pattern).fullmatch(name) is not None


@functools.lru_cache(maxsize=256)
def _glob(pattern: str) -> Any:
    parts = [".*" if char == "*" else "." if char == "?" else re2.escape(char)
             for char in pattern]
    options = _options(True, literal=False)
    options.dot_nl = True
    return re2.compile("".join(parts), options=options)
