"""The base of every JSON request body."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class RequestBody(BaseModel):
    """A request body validated strictly: each value must already have the JSON type its
    schema states (`false` is not a number, `"5"` not an integer, `1` not a boolean), so
    the published schema and the server agree on what is accepted. (No body carries a
    date; strict mode would refuse dates given as JSON strings.)"""

    model_config = ConfigDict(strict=True)
