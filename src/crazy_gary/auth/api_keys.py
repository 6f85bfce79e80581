"""API keys: create, list, delete, and sign a request in with one.

A key is `cg_` + 32 random bytes (URL-safe base64). The database keeps its SHA-256 (a key
has 256 bits of entropy: a slow password hash would buy nothing and cost every request)
and its first characters for display. Every request with a key looks it up by that hash
(one indexed read, joined with the owner's row), with no cache: a deleted or expired key
fails on the next request in every process.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crazy_gary.auth.models import ApiKey, User
from crazy_gary.auth.principal import USER_FIELDS, SignedInUser
from crazy_gary.auth.scopes import ADMIN, SCOPES
from crazy_gary.auth.tokens import bearer_token
from crazy_gary.db import Database, fetch_all
from crazy_gary.errors import (
    AuthRequired,
    InsufficientPermissions,
    NotFound,
    TokenExpired,
    ValidationFailed,
)
from crazy_gary.kit.clock import utcnow
from crazy_gary.kit.dml import rows_changed

KEY_PREFIX = "cg_"
SECRET_BYTES = 32
DISPLAY_CHARS = len(KEY_PREFIX) + 8
# `last_used_at` is written at most this often per key (one conditional UPDATE).
LAST_USED_EVERY = timedelta(minutes=1)

_k = ApiKey.__table__.c
_u = User.__table__.c
_BY_HASH = (
    select(*(_u[name] for name in USER_FIELDS), _k.id.label("api_key_id"),
           _k.scopes.label("key_scopes"), _k.expires_at.label("key_expires_at"),
           _k.last_used_at.label("key_last_used_at"))
    .select_from(ApiKey.__table__.join(User.__table__, _k.user_id == _u.id))
    .where(_k.key_hash == bindparam("key_hash"))
)


def is_api_key(credential: str) -> bool:
    return credential.startswith(KEY_PREFIX)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _checked_scopes(scopes: Iterable[str], owner: SignedInUser) -> list[str]:
    """The requested scopes, deduplicated in the table's order; unknown ones are a 400,
    `admin` for a non-administrator a 403."""
    wanted = set(scopes)
    unknown = sorted(wanted - set(SCOPES))
    if unknown:
        raise ValidationFailed([f"scopes: unknown scope '{name}'" for name in unknown],
                               details={"allowed_scopes": list(SCOPES)})
    if not wanted:
        raise ValidationFailed("scopes: at least one scope is required",
                               details={"allowed_scopes": list(SCOPES)})
    if ADMIN in wanted and not owner.is_admin:
        raise InsufficientPermissions("Only administrators may give a key the 'admin' scope",
                                      details={"scope": ADMIN})
    return [name for name in SCOPES if name in wanted]


async def create_key(session: AsyncSession, *, owner: SignedInUser, name: str,
                     scopes: Iterable[str], expires_in_days: int | None
                     ) -> tuple[ApiKey, str]:
    """A new key for `owner`: the row and the secret (which is not kept)."""
    checked = _checked_scopes(scopes, owner)
    secret = KEY_PREFIX + secrets.token_urlsafe(SECRET_BYTES)
    now = utcnow()
    key = ApiKey(
        id=uuid.uuid4().hex, user_id=owner.id, name=name.strip(),
        prefix=secret[:DISPLAY_CHARS], key_hash=hash_key(secret), scopes=" ".join(checked),
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    session.add(key)
    await session.flush()
    return key, secret


async def list_keys(session: AsyncSession, *, user_id: int) -> list[ApiKey]:
    """The user's keys, newest first."""
    result = await session.scalars(
        select(ApiKey).where(ApiKey.user_id == user_id)
        .order_by(ApiKey.created_at.desc(), ApiKey.id))
    return list(result)


async def delete_key(session: AsyncSession, *, user_id: int, key_id: str) -> None:
    """Delete one of the user's keys; another user's (or no) key is a 404."""
    deleted = await rows_changed(
        session, delete(ApiKey).where(ApiKey.id == key_id, ApiKey.user_id == user_id))
    if deleted != 1:
        raise NotFound("API key not found")


async def user_from_key(database: Database, key: str) -> SignedInUser:
    """The user a key speaks for, with the key's scopes. Raises AuthRequired for an unknown
    (or deleted) key and TokenExpired for an expired one."""
    rows = await fetch_all(database, _BY_HASH, {"key_hash": hash_key(key)})
    if not rows:
        raise AuthRequired("API key is not valid")
    row = rows[0]
    now = utcnow()
    expires_at: datetime | None = row["key_expires_at"]
    if expires_at is not None and expires_at <= now:
        raise TokenExpired("API key has expired")
    last_used: datetime | None = row["key_last_used_at"]
    if last_used is None or now - last_used >= LAST_USED_EVERY:
        await _mark_used(database, row["api_key_id"], now)
    return SignedInUser(**{name: row[name] for name in USER_FIELDS},
                        api_key_id=row["api_key_id"],
                        scopes=frozenset(row["key_scopes"].split()))


async def _mark_used(database: Database, key_id: str, now: datetime) -> None:
    """Record the use, unless another request (of any process) did within the minute."""
    async with database.engine.begin() as connection:
        await connection.execute(
            update(ApiKey)
            .where(ApiKey.id == key_id,
                   or_(ApiKey.last_used_at.is_(None),
                       ApiKey.last_used_at <= now - LAST_USED_EVERY))
            .values(last_used_at=now))


def request_credential(authorization: str | None, api_key: str | None) -> str | None:
    """The credential a request carries: `Authorization: Bearer <JWT or key>`, else an
    `X-API-Key: cg_...` header (which takes keys only)."""
    token = bearer_token(authorization)
    if token is not None:
        return token
    if api_key and is_api_key(api_key.strip()):
        return api_key.strip()
    return None


_OWNER_BY_HASH = select(_k.user_id).where(_k.key_hash == bindparam("key_hash"))


class KeyOwners:
    """Whose key is this, for keying rate limits by user before the route runs. A key's
    owner never changes, so it is remembered; whether the key still works is decided by the
    route's sign-in (never from here)."""

    MAX_ENTRIES = 10_000

    def __init__(self) -> None:
        self._owners: dict[str, int] = {}

    async def owner_of(self, database: Database, key: str) -> int | None:
        digest = hash_key(key)
        owner = self._owners.get(digest)
        if owner is None:
            rows = await fetch_all(database, _OWNER_BY_HASH, {"key_hash": digest})
            if not rows:
                return None
            if len(self._owners) >= self.MAX_ENTRIES:
                self._owners.clear()
            owner = self._owners[digest] = int(rows[0]["user_id"])
        return owner
