"""Bodies of the API-key routes."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from crazy_gary.auth.scopes import SCOPES
from crazy_gary.kit.bodies import WHOLE_NUMBER, RequestBody
from crazy_gary.kit.text import SafeStr

# The service checks each scope against `auth.scopes.SCOPES` (naming the unknown ones).
Scope = Annotated[str, Field(max_length=40, json_schema_extra={"enum": list(SCOPES)})]
ExpiresInDays = Annotated[int, Field(ge=1, le=3650), WHOLE_NUMBER]


class ApiKeyCreate(RequestBody):
    name: SafeStr = Field(min_length=1, max_length=100, pattern=r"\S")
    scopes: list[Scope] = Field(min_length=1, max_length=len(SCOPES))
    expires_in_days: ExpiresInDays | None = Field(
        default=None, description="Days until the key stops working; none: it never expires")


class ApiKeyRead(BaseModel):
    """A key as listed: never its secret."""

    id: str
    name: str
    prefix: str
    scopes: list[str]
    created_at: str
    expires_at: str | None
    last_used_at: str | None


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The secret: shown once, only in this response")

