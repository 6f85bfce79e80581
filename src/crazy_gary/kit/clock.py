"""Time helpers: every timestamp leaves the service as ISO 8601 UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, overload

from pydantic import BeforeValidator


def utcnow() -> datetime:
    return datetime.now(UTC)


@overload
def iso(value: datetime) -> str: ...
@overload
def iso(value: datetime | None) -> str | None: ...
def iso(value: datetime | None) -> str | None:
    """ISO 8601 with a Z suffix, seconds precision kept to microseconds when present."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def iso_now() -> str:
    return iso(utcnow())


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]|$)")


def parse_iso_datetime(value: object) -> datetime:
    """An ISO 8601 date or date-time (`Z` or an offset; none means UTC) as an aware UTC
    datetime. Numbers (epoch seconds, "0.5") and values whose UTC form falls outside the
    years 1-9999 are refused with ValueError, so a query parameter answers 400, not 500."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and _ISO_DATE.match(value.strip()):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError("must be an ISO 8601 date-time") from None
    else:
        raise ValueError("must be an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range") from None


IsoDateTime = Annotated[datetime, BeforeValidator(parse_iso_datetime)]
"""A datetime parameter that is ISO 8601 text only and always within range, in UTC."""
