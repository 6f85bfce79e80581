"""The base of every JSON request body, and its integer type."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, BeforeValidator, ConfigDict


class RequestBody(BaseModel):
    """A request body validated strictly: each value must already have the JSON type its
    schema states (`false` is not a number, `"5"` not an integer, `1` not a boolean), so
    the published schema and the server agree on what is accepted. (No body carries a
    date; strict mode would refuse dates given as JSON strings.)"""

    model_config = ConfigDict(strict=True)


def _whole_number(value: Any) -> Any:
    """JSON has one number type: `3.0` is the integer 3, as JSON Schema counts it."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# The conversion of every integer field of a request body (`3` or `3.0`; never `true` or `"3"`).
# It goes after the field's bounds, `Annotated[int, Field(ge=..., le=...), WHOLE_NUMBER]`,
# so that the published schema states them.
WHOLE_NUMBER = BeforeValidator(_whole_number)
