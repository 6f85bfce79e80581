"""JWT access and refresh tokens (HS256 only)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from crazy_gary import runtime
from crazy_gary.config import Settings
from crazy_gary.errors import AuthRequired, TokenExpired
from crazy_gary.kit.clock import utcnow

ALGORITHM = "HS256"
ACCESS = "access"
REFRESH = "refresh"


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    type: str
    jti: str
    version: int
    account: int | None  # the account's creation stamp (see `account_stamp`)
    family: str | None
    expires_at: datetime


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def account_stamp(created_at: datetime) -> int:
    """The account's creation time in microseconds: with the id it names one account, so a
    token never speaks for another account that later holds the same number."""
    return (created_at - _EPOCH) // _MICROSECOND


def issue_access_token(settings: Settings, *, user_id: int, version: int, account: int) -> str:
    now = utcnow()
    claims = {
        "sub": str(user_id),
        "type": ACCESS,
        "ver": version,
        "acct": account,
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + timedelta(seconds=settings.access_token_ttl_seconds),
    }
    return jwt.encode(claims, settings.jwt_secret_key, algorithm=ALGORITHM)


def issue_refresh_token(
    settings: Settings, *, user_id: int, version: int, account: int, family: str, jti: str
) -> tuple[str, datetime]:
    now = utcnow()
    expires = now + timedelta(seconds=settings.refresh_token_ttl_seconds)
    claims = {
        "sub": str(user_id),
        "type": REFRESH,
        "ver": version,
        "acct": account,
        "fam": family,
        "jti": jti,
        "iat": now,
        "exp": expires,
    }
    return jwt.encode(claims, settings.jwt_secret_key, algorithm=ALGORITHM), expires


VERIFIED_MAX = 4096


class VerifiedTokens:
    """Signatures already verified, by (key, token): a client sends the same token on every
    request, and checking it again costs more than the rest of a cached /me. Expiry is still
    checked on every use. One per runtime."""

    def __init__(self) -> None:
        self.claims: dict[tuple[str, str], dict[str, Any]] = {}


def _verify(key: str, token: str) -> dict[str, Any]:
    running = runtime.running()
    verified = running.verified_tokens.claims if running is not None else {}
    cached = verified.get((key, token))
    if cached is not None:
        if cached["exp"] <= time.time():
            verified.pop((key, token), None)
            raise TokenExpired()
        return cached
    try:
        claims = jwt.decode(
            token, key, algorithms=[ALGORITHM],
            options={"require": ["exp", "sub", "type", "jti"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenExpired() from exc
    except jwt.PyJWTError as exc:
        raise AuthRequired() from exc
    if len(verified) >= VERIFIED_MAX:
        verified.clear()
    verified[(key, token)] = claims
    return claims


def decode_token(settings: Settings, token: str, *, expected_type: str) -> TokenClaims:
    """Verify signature, algorithm, expiry and type; raise the contract's 401 errors."""
    claims = _verify(settings.jwt_secret_key, token)
    if claims.get("type") != expected_type:
        article = "An" if expected_type[0] in "aeiou" else "A"
        raise AuthRequired(f"{article} {expected_type} token is required")
    try:
        user_id = int(claims["sub"])
        version = int(claims.get("ver", 0))
        account = int(claims["acct"]) if "acct" in claims else None
    except (TypeError, ValueError) as exc:
        raise AuthRequired() from exc
    return TokenClaims(
        user_id=user_id,
        type=claims["type"],
        jti=str(claims["jti"]),
        version=version,
        account=account,
        family=claims.get("fam"),
        expires_at=datetime.fromtimestamp(claims["exp"], tz=utcnow().tzinfo),
    )


def peek_user_id(settings: Settings, token: str) -> int | None:
    """The user id of a valid access token, or None (used to key rate limits)."""
    try:
        return decode_token(settings, token, expected_type=ACCESS).user_id
    except (AuthRequired, TokenExpired):
        return None


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()
