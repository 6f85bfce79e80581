"""Current-user dependencies: `CurrentUser` for any signed-in user, `AdminUser` for admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPBearer

from crazy_gary.auth.cache import UserCache, read_user
from crazy_gary.auth.principal import SignedInUser
from crazy_gary.auth.tokens import (
    ACCESS,
    TokenClaims,
    account_stamp,
    bearer_token,
    decode_token,
)
from crazy_gary.config import Settings
from crazy_gary.db import Database, request_database
from crazy_gary.errors import AuthRequired, InsufficientPermissions

bearer = HTTPBearer(auto_error=False, description="Access token from /api/auth/login")


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def _accepted(claims: TokenClaims, user: SignedInUser | None) -> SignedInUser:
    """The token's user, unless it no longer exists, the row under that id is another
    account (the creation stamp differs), or the token predates a logout or password change
    (each bumps the user's token version)."""
    if (user is None or claims.version != user.token_version
            or claims.account != account_stamp(user.created_at)):
        raise AuthRequired()
    return user


async def user_from_token(
    database: Database, settings: Settings, token: str, cache: UserCache | None = None
) -> SignedInUser:
    """The user an access token speaks for (from `cache` when given). Raises AuthRequired
    for a token of a logged-out session, from before a password change, or of a deleted or
    replaced account (through `cache`, a change made by another process is seen within
    AUTH_USER_CACHE_SECONDS). Open streams call it again to learn that their token ended."""
    claims = decode_token(settings, token, expected_type=ACCESS)
    if cache is not None:
        user = await cache.load(database, claims.user_id)
    else:
        user = await read_user(database, claims.user_id)
    return _accepted(claims, user)


def user_cache_of(request: Request) -> UserCache:
    cache: UserCache = request.app.state.user_cache
    return cache


class SignedIn(HTTPBearer):
    """The signed-in user (read-only; to change the row, load it in the request's session),
    usually from the app's user cache without a query; with `admin`, only an administrator.

    The security scheme and the dependency are one object: FastAPI documents it as HTTP
    bearer auth and resolves it as a single dependency (every nested dependency costs a
    resolution pass on each request, ~15 us, a tenth of a cached /me).
    """

    def __init__(self, *, admin: bool = False) -> None:
        super().__init__(auto_error=False, scheme_name="HTTPBearer",
                         description="Access token from /api/auth/login")
        self.admin = admin

    async def __call__(self, request: Request) -> SignedInUser:  # type: ignore[override]
        token = bearer_token(request.headers.get("authorization"))
        if token is None:
            raise AuthRequired()
        user = await user_from_token(request_database(request), request.app.state.settings,
                                     token, user_cache_of(request))
        if self.admin and not user.is_admin:
            raise InsufficientPermissions("Administrator role required")
        return user


CurrentUser = Annotated[SignedInUser, Depends(SignedIn())]
AdminUser = Annotated[SignedInUser, Depends(SignedIn(admin=True))]
