"""Request and response bodies of the account routes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class RegisterRequest(BaseModel):
    email: str = Field(max_length=320, json_schema_extra={"format": "email"})
    password: str = Field(max_length=4096)
    fullName: str | None = Field(default=None, max_length=200)


class LoginRequest(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=4096)


class ProfileUpdate(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class ChangePasswordRequest(BaseModel):
    current_password: str = Field(max_length=4096)
    new_password: str = Field(max_length=4096)


class UserProfile(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    username: str
    role: str
    created_at: str
    last_login: str | None


class AuthResponse(BaseModel):
    token: str
    refresh_token: str
    expires_in: int
    user: UserProfile


class RefreshResponse(BaseModel):
    token: str
    refresh_token: str
    expires_in: int


class UserEnvelope(BaseModel):
    user: UserProfile


class ValidatedUser(BaseModel):
    id: int
    email: str
    name: str


class ValidateResponse(BaseModel):
    valid: bool
    user: ValidatedUser | None = None


class MessageResponse(BaseModel):
    message: str
