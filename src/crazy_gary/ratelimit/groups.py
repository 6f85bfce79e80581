"""Which endpoint group a path belongs to (the reference's rate-limit table)."""

from __future__ import annotations

from crazy_gary.config import Settings

# Credential routes share the strict "Authentication" budget; profile reads are general API.
AUTH_PATHS = frozenset(
    {"/api/auth/register", "/api/auth/login", "/api/auth/refresh", "/api/auth/change-password"}
)
# Credential routes a caller uses without being signed in: always keyed by the client's
# address, whatever token is attached (a token of a self-made account is no fresh budget).
BY_ADDRESS_PATHS = frozenset({"/api/auth/register", "/api/auth/login", "/api/auth/refresh"})
# Also limited per target email (the body's `email`), whichever address the guesses come from.
LOGIN_PATH = "/api/auth/login"
# A PUT here that carries `current_password` (an email change) checks a password: it counts
# in the credential budget, like change-password.
USERS_PREFIX = "/api/users/"


def group_of(path: str) -> str | None:
    """The limit group of a path, or None for unlimited paths (health, docs, metrics)."""
    if path in AUTH_PATHS:
        return "auth"
    if path.startswith("/api/endpoints"):
        return "endpoints"
    if path.startswith("/api/monitoring") or path.startswith("/api/observability"):
        return "monitoring"
    if path.startswith("/api/"):
        return "general"
    return None


def limit_of(settings: Settings, group: str) -> str:
    limit: str = getattr(settings, f"rate_limit_{group}")
    return limit
