"""A user (row or signed-in copy) -> response schemas."""

from __future__ import annotations

from crazy_gary.auth.models import User
from crazy_gary.auth.principal import SignedInUser
from crazy_gary.auth.schemas import UserProfile
from crazy_gary.kit.clock import iso


def profile_of(user: User | SignedInUser) -> UserProfile:
    return UserProfile(
        id=user.id,
        email=user.email,
        name=user.name,
        username=user.username,
        role=user.role,
        created_at=iso(user.created_at),
        last_login=iso(user.last_login),
    )
