"""Request and response bodies of the account routes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import JsonDict

from crazy_gary.auth.passwords import MAX_LENGTH, MIN_LENGTH
from crazy_gary.kit.bodies import RequestBody
from crazy_gary.kit.text import SafeStr

# The rules auth.passwords enforces on a new password, stated for clients (the server
# checks them itself, so that one answer lists every problem).
NEW_PASSWORD: JsonDict = {
    "minLength": MIN_LENGTH, "maxLength": MAX_LENGTH,
    "pattern": r"^(?=[\s\S]*[A-Za-z])(?=[\s\S]*[0-9])",
    "description": f"{MIN_LENGTH}-{MAX_LENGTH} characters with a letter and a digit",
}


class RegisterRequest(RequestBody):
    email: SafeStr = Field(max_length=320, json_schema_extra={"format": "email"})
    password: SafeStr = Field(max_length=4096, json_schema_extra=NEW_PASSWORD)
    fullName: SafeStr | None = Field(default=None, max_length=200)


class LoginRequest(RequestBody):
    email: SafeStr = Field(max_length=320)
    password: SafeStr = Field(max_length=4096)


class ProfileUpdate(RequestBody):
    name: SafeStr = Field(min_length=1, max_length=200)


class ChangePasswordRequest(RequestBody):
    current_password: SafeStr = Field(max_length=4096)
    new_password: SafeStr = Field(max_length=4096, json_schema_extra=NEW_PASSWORD)


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


class PasswordChanged(BaseModel):
    """The contract's message, plus a fresh pair so this client stays signed in."""

    message: str
    token: str
    refresh_token: str
    expires_in: int


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
