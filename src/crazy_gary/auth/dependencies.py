"""Current-user dependencies: `CurrentUser` for any signed-in user, `AdminUser` for admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPBearer

from crazy_gary import runtime
from crazy_gary.auth.api_keys import is_api_key, request_credential, user_from_key
from crazy_gary.auth.cache import UserCache, read_user
from crazy_gary.auth.principal import SignedInUser
from crazy_gary.auth.scopes import ADMIN, NO_KEYS, OPEN, SIGNED_IN, scope_of
from crazy_gary.auth.tokens import (
    ACCESS,
    TokenClaims,
    account_stamp,
    decode_token,
)
from crazy_gary.config import Settings
from crazy_gary.db import Database, request_database
from crazy_gary.errors import AuthRequired, InsufficientPermissions, InsufficientScope

bearer = HTTPBearer(auto_error=False, description="Access token from /api/auth/login")


async def get_settings_dep(request: Request) -> Settings:
    return runtime.of(request).settings


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
    """The user an access token or an API key speaks for (from `cache` when given). Raises
    AuthRequired for a token of a logged-out session, from before a password change, or of a
    deleted or replaced account (through `cache`, a change made by another process is seen
    within AUTH_USER_CACHE_SECONDS), and for a deleted key (never cached). Open streams call
    it again to learn that their credential ended."""
    if is_api_key(token):
        return await user_from_key(database, token)
    claims = decode_token(settings, token, expected_type=ACCESS)
    if cache is not None:
        user = await cache.load(database, claims.user_id)
    else:
        user = await read_user(database, claims.user_id)
    return _accepted(claims, user)


def credential_of(request: Request) -> str | None:
    """The access token or API key the request carries (see `request_credential`)."""
    headers = request.headers
    return request_credential(headers.get("authorization"), headers.get("x-api-key"))


def authorize_key(request: Request, user: SignedInUser) -> None:
    """Refuse a key outside its scopes on this route (by `auth.scopes`; a JWT passes).
    A route the table does not name, or marks for people only, is refused to every key."""
    if user.scopes is None:
        return
    route = request.scope.get("route")
    template = getattr(route, "path", None)
    method = "GET" if request.method == "HEAD" else request.method
    scope = scope_of(method, template) if isinstance(template, str) else None
    if scope is None or scope in (NO_KEYS, OPEN):
        raise InsufficientPermissions(
            "API keys cannot call this route: sign in with a password",
            details={"credential": "api_key"})
    if scope != SIGNED_IN and not user.may(scope):
        raise InsufficientScope(scope)


def user_cache_of(request: Request) -> UserCache:
    return runtime.of(request).user_cache


class SignedIn(HTTPBearer):
    """The signed-in user (read-only; to change the row, load it in the request's session),
    usually from the app's user cache without a query; with `admin`, only an administrator.
    An API key (Bearer or X-API-Key) is looked up on every request and must carry the
    route's scope (`auth.scopes`).

    The security scheme and the dependency are one object: FastAPI documents it as HTTP
    bearer auth and resolves it as a single dependency (every nested dependency costs a
    resolution pass on each request).
    """

    def __init__(self, *, admin: bool = False) -> None:
        super().__init__(auto_error=False, scheme_name="HTTPBearer",
                         description="Access token from /api/auth/login, or an API key "
                                     "(cg_..., also accepted as X-API-Key)")
        self.admin = admin

    async def __call__(self, request: Request) -> SignedInUser:  # type: ignore[override]
        token = credential_of(request)
        if token is None:
            raise AuthRequired()
        user = await user_from_token(request_database(request), runtime.of(request).settings,
                                     token, user_cache_of(request))
        if user.api_key_id is not None:
            authorize_key(request, user)
            request.state.api_key_user_id = user.id  # for the request log (no JWT to peek)
        if self.admin and not user.is_admin:
            if user.role == "admin":  # an administrator's key without the admin scope
                raise InsufficientScope(ADMIN)
            raise InsufficientPermissions("Administrator role required")
        return user


CurrentUser = Annotated[SignedInUser, Depends(SignedIn())]
AdminUser = Annotated[SignedInUser, Depends(SignedIn(admin=True))]
