"""`SignedInUser`: who is asking, as the request sees it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class SignedInUser:
    """A read-only copy of what requests need of the signed-in user's row (never the
    password hash).

    Immutable, so the user cache hands the same instance to every request of one cache
    period. To change the user, load the row in the request's session by `id`.
    The user's row has the fields up to `last_login` (`USER_FIELDS`).
    """

    id: int
    email: str
    username: str
    name: str
    role: str
    token_version: int
    created_at: datetime
    last_login: datetime | None
    # Set when an API key signed the request in: its id and scopes. A person signed in
    # (a JWT) has `scopes` None: everything the role allows.
    api_key_id: str | None = None
    scopes: frozenset[str] | None = None

    @property
    def is_admin(self) -> bool:
        """An administrator; through an API key only when the key has the `admin` scope."""
        return self.role == "admin" and (self.scopes is None or "admin" in self.scopes)

    def may(self, scope: str) -> bool:
        """Whether the credential carries `scope` (a JWT carries every one)."""
        return self.scopes is None or scope in self.scopes


USER_FIELDS = ("id", "email", "username", "name", "role", "token_version", "created_at",
               "last_login")
