"""Accounts: sign-in and the session's tokens (auth), and user administration (users)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from crazy_gary.client.core import Core
from crazy_gary.client.models import (
    ApiKeyCreated,
    ApiKeyRead,
    AuthResponse,
    MessageResponse,
    Page,
    PasswordChanged,
    UserProfile,
    UserRead,
    ValidateResponse,
)


class AuthArea:
    def __init__(self, core: Core) -> None:
        self._core = core

    async def register(self, email: str, password: str, *,
                       full_name: str | None = None) -> AuthResponse:
        """Create an account; the client is signed in as it afterwards."""
        body = {"email": email, "password": password, "fullName": full_name}
        answer = await self._core.call("POST", "/api/auth/register", AuthResponse, auth=False,
                                       json={k: v for k, v in body.items() if v is not None})
        self._core.set_tokens(answer.token, answer.refresh_token)
        return answer

    async def login(self, email: str, password: str) -> AuthResponse:
        """Sign in; later calls use the tokens and refresh them when they expire."""
        answer = await self._core.call("POST", "/api/auth/login", AuthResponse, auth=False,
                                       json={"email": email, "password": password})
        self._core.set_tokens(answer.token, answer.refresh_token)
        return answer

    async def refresh(self) -> None:
        """Trade the refresh token for a new pair now (calls do this by themselves)."""
        await self._core.refresh(stale=self._core.token)

    async def logout(self) -> MessageResponse:
        """End every session of the account and forget the tokens."""
        answer = await self._core.call("POST", "/api/auth/logout", MessageResponse)
        self._core.set_tokens(None, None)
        return answer

    async def me(self) -> UserProfile:
        resp = await self._core.request("GET", "/api/auth/me")
        return UserProfile.model_validate(resp.json()["user"])

    async def update_me(self, *, name: str) -> UserProfile:
        resp = await self._core.request("PUT", "/api/auth/me", json={"name": name})
        return UserProfile.model_validate(resp.json()["user"])

    async def change_password(self, current_password: str, new_password: str
                              ) -> PasswordChanged:
        answer = await self._core.call("POST", "/api/auth/change-password", PasswordChanged,
                                       json={"current_password": current_password,
                                             "new_password": new_password})
        self._core.set_tokens(answer.token, answer.refresh_token)
        return answer

    async def create_api_key(self, name: str, scopes: list[str], *,
                             expires_in_days: int | None = None) -> ApiKeyCreated:
        """A key for automation; its secret (`key`) is in this answer only."""
        body: dict[str, Any] = {"name": name, "scopes": scopes}
        if expires_in_days is not None:
            body["expires_in_days"] = expires_in_days
        return await self._core.call("POST", "/api/auth/api-keys", ApiKeyCreated, json=body)

    async def list_api_keys(self) -> list[ApiKeyRead]:
        return await self._core.call("GET", "/api/auth/api-keys", list[ApiKeyRead])

    async def delete_api_key(self, key_id: str) -> None:
        await self._core.request("DELETE", f"/api/auth/api-keys/{key_id}")

    async def validate(self) -> ValidateResponse:
        """Whether the current access token is valid (never raises for a bad token)."""
        return await self._core.call("GET", "/api/auth/validate", ValidateResponse,
                                     accept=(401,))


class UsersArea:
    """User administration (listing, creating and deleting need the admin role)."""

    def __init__(self, core: Core) -> None:
        self._core = core

    async def list(self, *, limit: int = 50, offset: int = 0) -> Page[UserRead]:
        return await self._core.page("/api/users", UserRead, limit=limit, offset=offset)

    def iter(self, *, page_size: int = 50) -> AsyncIterator[UserRead]:
        return self._core.pages("/api/users", UserRead, page_size=page_size)

    async def get(self, user_id: int) -> UserRead:
        return await self._core.call("GET", f"/api/users/{user_id}", UserRead)

    async def create(self, *, username: str, email: str, name: str | None = None,
                     password: str | None = None, role: str = "user") -> UserRead:
        body = {"username": username, "email": email, "name": name, "password": password,
                "role": role}
        return await self._core.call("POST", "/api/users", UserRead,
                                     json={k: v for k, v in body.items() if v is not None})

    async def update(self, user_id: int, **changes: Any) -> UserRead:
        """Change `username`, `email`, `name` (and, as an admin, `role`, `password`)."""
        return await self._core.call("PUT", f"/api/users/{user_id}", UserRead, json=changes)

    async def delete(self, user_id: int) -> None:
        await self._core.request("DELETE", f"/api/users/{user_id}")
