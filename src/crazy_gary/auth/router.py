"""Account routes under /api/auth."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials

from crazy_gary.auth import service
from crazy_gary.auth.cache import commit_user_change
from crazy_gary.auth.dependencies import (
    CurrentUser,
    SettingsDep,
    bearer,
    user_cache_of,
    user_from_token,
)
from crazy_gary.auth.presenters import profile_of
from crazy_gary.auth.schemas import (
    AuthResponse,
    ChangePasswordRequest,
    LoginRequest,
    MessageResponse,
    PasswordChanged,
    ProfileUpdate,
    RefreshResponse,
    RegisterRequest,
    UserEnvelope,
    ValidatedUser,
    ValidateResponse,
)
from crazy_gary.db import SessionDep, request_database
from crazy_gary.errors import AppError, AuthRequired
from crazy_gary.kit.openapi import error_responses

router = APIRouter(prefix="/api/auth", tags=["auth"])
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=AuthResponse,
    responses=error_responses(400, 409, 429),
)
async def register(body: RegisterRequest, session: SessionDep, settings: SettingsDep
                   ) -> AuthResponse:
    """Create an account and sign it in."""
    user = await service.create_user(
        session, email=body.email, password=body.password, name=body.fullName
    )
    user.last_login = user.created_at
    access, refresh = await service.issue_tokens(session, settings, user)
    return AuthResponse(token=access, refresh_token=refresh,
                        expires_in=settings.access_token_ttl_seconds, user=profile_of(user))


@router.post("/login", response_model=AuthResponse, responses=error_responses(400, 401, 429))
async def login(body: LoginRequest, session: SessionDep, settings: SettingsDep) -> AuthResponse:
    """Exchange email and password for tokens."""
    user = await service.authenticate(session, email=body.email, password=body.password)
    access, refresh = await service.issue_tokens(session, settings, user)
    return AuthResponse(token=access, refresh_token=refresh,
                        expires_in=settings.access_token_ttl_seconds, user=profile_of(user))


@router.post("/refresh", response_model=RefreshResponse, responses=error_responses(401, 429))
async def refresh(credentials: Credentials, session: SessionDep, settings: SettingsDep
                  ) -> RefreshResponse:
    """Spend the refresh token in the Authorization header for a new pair (rotation)."""
    if credentials is None:
        raise AuthRequired("Refresh token required")
    access, new_refresh = await service.rotate_refresh_token(
        session, settings, credentials.credentials
    )
    return RefreshResponse(token=access, refresh_token=new_refresh,
                           expires_in=settings.access_token_ttl_seconds)


@router.get("/me", response_model=UserEnvelope, responses=error_responses(401))
async def me(user: CurrentUser) -> UserEnvelope:
    """The signed-in user's profile."""
    return UserEnvelope(user=profile_of(user))


@router.put("/me", response_model=UserEnvelope, responses=error_responses(400, 401))
async def update_me(body: ProfileUpdate, user: CurrentUser, session: SessionDep
                    ) -> UserEnvelope:
    """Change the signed-in user's display name."""
    updated = await service.update_profile(session, user_id=user.id, name=body.name)
    return UserEnvelope(user=profile_of(updated))


@router.post(
    "/change-password", response_model=PasswordChanged, responses=error_responses(400, 401, 429)
)
async def change_password(
    body: ChangePasswordRequest, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> PasswordChanged:
    """Change the password; every earlier token ends, and this client gets a fresh pair."""
    account = await service.change_password(
        session, user_id=user.id, current_password=body.current_password,
        new_password=body.new_password,
    )
    access, refresh = await service.issue_tokens(session, settings, account)
    await commit_user_change(session, account.id)
    return PasswordChanged(message="Password changed successfully", token=access,
                           refresh_token=refresh, expires_in=settings.access_token_ttl_seconds)


@router.post("/logout", response_model=MessageResponse, responses=error_responses(401))
async def logout(user: CurrentUser, session: SessionDep) -> MessageResponse:
    """End every session of the signed-in user: access and refresh tokens stop working."""
    await service.end_sessions(session, user.id)
    await commit_user_change(session, user.id)
    return MessageResponse(message="Logged out successfully")


@router.get(
    "/validate",
    response_model=ValidateResponse,
    responses={401: {"model": ValidateResponse, "description": "Token invalid or expired"}},
)
async def validate(request: Request, credentials: Credentials, settings: SettingsDep
                   ) -> ValidateResponse | JSONResponse:
    """Whether the access token is valid, with its user."""
    try:
        if credentials is None:
            raise AuthRequired()
        user = await user_from_token(request_database(request), settings,
                                     credentials.credentials, user_cache_of(request))
    except AppError:
        return JSONResponse({"valid": False}, status_code=401)
    return ValidateResponse(valid=True,
                            user=ValidatedUser(id=user.id, email=user.email, name=user.name))
