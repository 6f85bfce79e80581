"""Text fields that every database can store."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator


def storable(value: str) -> str:
    """Refuse NUL characters and lone surrogates (PostgreSQL and UTF-8 cannot store them)."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode text") from exc
    return value


SafeStr = Annotated[str, AfterValidator(storable)]
"""A str that can be stored and compared in SQL on SQLite and PostgreSQL alike."""
