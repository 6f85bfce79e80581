"""The base of every JSON request body, and its integer type."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


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


def json_int(**constraints: Any) -> Any:
    """An integer field of a request body (`3` or `3.0`; never `true` or `"3"`) with its
    bounds (`ge`, `le`, ...), which come before the conversion so that the published
    schema states them."""
    return Annotated[int, Field(**constraints), BeforeValidator(_whole_number)]
