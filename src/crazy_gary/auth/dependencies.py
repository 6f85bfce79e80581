"""Current-user dependencies: `CurrentUser` for any signed-in user, `AdminUser` for admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from crazy_gary.auth.cache import UserCache
from crazy_gary.auth.models import User
from crazy_gary.auth.tokens import ACCESS, TokenClaims, decode_token
from crazy_gary.config import Settings
from crazy_gary.db import request_database
from crazy_gary.errors import AuthRequired, InsufficientPermissions

bearer = HTTPBearer(auto_error=False, description="Access token from /api/auth/login")


async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def _accepted(claims: TokenClaims, user: User | None) -> User:
    """The token's user, unless it no longer exists or the token predates a password
    change (or any other bump of the user's token version)."""
    if user is None or claims.version != user.token_version:
        raise AuthRequired()
    return user


async def user_from_token(
    session: AsyncSession, settings: Settings, token: str, cache: UserCache | None = None
) -> User:
    """The user an access token speaks for; tokens from before a password change fail."""
    claims = decode_token(settings, token, expected_type=ACCESS)
    user = cache.get(session, claims.user_id) if cache is not None else None
    if user is None:
        user = await session.get(User, claims.user_id)
        if user is not None and cache is not None:
            cache.put(user)
    return _accepted(claims, user)


def user_cache_of(request: Request) -> UserCache:
    return request.app.state.user_cache


async def get_current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User:
    """The signed-in user as a detached snapshot (read it; to change the row, load it in
    the request's session). Usually served from the app's user cache without a query."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthRequired()
    # Settings straight from the app (not SettingsDep): every authenticated request
    # resolves this dependency, and each sub-dependency costs a resolution pass.
    settings: Settings = request.app.state.settings
    claims = decode_token(settings, credentials.credentials, expected_type=ACCESS)
    user = await user_cache_of(request).load(request_database(request), claims.user_id)
    return _accepted(claims, user)


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_admin_user(user: CurrentUser) -> User:
    if not user.is_admin:
        raise InsufficientPermissions("Administrator role required")
    return user


AdminUser = Annotated[User, Depends(get_admin_user)]
