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
    """

    id: int
    email: str
    username: str
    name: str
    role: str
    token_version: int
    created_at: datetime
    last_login: datetime | None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"
