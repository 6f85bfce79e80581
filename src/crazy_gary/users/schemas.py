"""Bodies of the user-management routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field
from typing_extensions import TypedDict

from crazy_gary.auth.schemas import NEW_PASSWORD
from crazy_gary.kit.bodies import RequestBody
from crazy_gary.kit.text import SafeStr

USERNAME_PATTERN = r"^[A-Za-z0-9_.-]{3,64}$"
# As a type (not a field constraint): a pattern on an optional field's Field() is checked
# but left out of the published schema.
Username = Annotated[str, Field(pattern=USERNAME_PATTERN, description="3-64 of A-Z a-z 0-9 _ . -")]


class UserRead(TypedDict):
    """A user as every user route returns it (a typed dict: a page of them is encoded
    straight from the database rows by pydantic-core)."""

    id: int
    username: str
    email: str
    name: str
    role: str
    created_at: datetime  # ISO 8601 UTC with a Z suffix, like every timestamp out
    last_login: datetime | None
    has_password: bool


class UserCreate(RequestBody):
    username: Username
    email: SafeStr = Field(max_length=320, json_schema_extra={"format": "email"})
    name: SafeStr | None = Field(default=None, max_length=200)
    password: SafeStr | None = Field(default=None, max_length=4096,
                                     json_schema_extra=NEW_PASSWORD)
    role: Literal["user", "admin"] = "user"


class UserUpdate(RequestBody):
    username: Username | None = None
    email: SafeStr | None = Field(default=None, max_length=320)
    name: SafeStr | None = Field(default=None, min_length=1, max_length=200)
    role: Literal["user", "admin"] | None = None
    password: SafeStr | None = Field(default=None, max_length=4096,
                                     json_schema_extra=NEW_PASSWORD)
    current_password: SafeStr | None = Field(
        default=None, max_length=4096,
        description="Your current password: required to change the email of your own account")
