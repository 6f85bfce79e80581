"""Account operations: the request owns the commit."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crazy_gary.auth.models import USER_ID_MAX, RefreshToken, User
from crazy_gary.auth.passwords import hash_password, password_problems, verify_password
from crazy_gary.auth.tokens import (
    REFRESH,
    account_stamp,
    decode_token,
    issue_access_token,
    issue_refresh_token,
)
from crazy_gary.auth.validation import normalize_email
from crazy_gary.config import Settings
from crazy_gary.errors import AuthRequired, InvalidCredentials, UserExists, ValidationFailed
from crazy_gary.kit.clock import utcnow
from crazy_gary.kit.dml import rows_changed


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    """The user with this id; ids outside the column's range simply do not exist."""
    if not 0 < user_id <= USER_ID_MAX:
        return None
    return await session.get(User, user_id)


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == email.lower()))


async def username_taken(session: AsyncSession, username: str, *, except_id: int | None = None
                         ) -> bool:
    query = select(User.id).where(func.lower(User.username) == username.lower())
    if except_id is not None:
        query = query.where(User.id != except_id)
    return await session.scalar(query) is not None


async def unique_username_from(session: AsyncSession, email: str) -> str:
    """A free username derived from the email's local part."""
    base = re.sub(r"[^a-z0-9_.-]", "", email.split("@", 1)[0].lower())[:40]
    if len(base) < 3:  # usernames are 3-64 characters
        base = f"{base}user"
    candidate, n = base, 1
    while await username_taken(session, candidate):
        n += 1
        candidate = f"{base}{n}"
    return candidate


async def create_user(
    session: AsyncSession,
    *,
    email: str,
    password: str | None,
    name: str | None = None,
    username: str | None = None,
    role: str = "user",
) -> User:
    """Validate and insert a user; every problem is reported at once."""
    normalized, problems = normalize_email(email)
    if password is not None:
        problems += password_problems(password)
    if problems:
        raise ValidationFailed(problems)
    assert normalized is not None
    if await get_user_by_email(session, normalized):
        raise UserExists()
    if username is None:
        username = await unique_username_from(session, normalized)
    elif await username_taken(session, username):
        raise UserExists("Username already taken", details={"field": "username"})
    user = User(
        email=normalized,
        username=username,
        name=(name or "").strip() or normalized.split("@", 1)[0],
        password_hash=await hash_password(password) if password is not None else None,
        role=role,
    )
    session.add(user)
    await flush_unique(session)
    return user


async def flush_unique(session: AsyncSession) -> None:
    """Flush; a unique email/username taken by a concurrent request is a 409, not a 500."""
    try:
        await session.flush()
    except IntegrityError as exc:
        raise UserExists("Email or username already taken") from exc


async def authenticate(session: AsyncSession, *, email: str, password: str) -> User:
    """The same error, in about the same time, for an unknown email and a wrong password."""
    normalized, _ = normalize_email(email)
    user = await get_user_by_email(session, normalized) if normalized else None
    # An unknown email (or an account without a password) still costs one verification.
    ok = await verify_password(password, user.password_hash if user else None)
    if not user or not ok:
        raise InvalidCredentials()
    user.last_login = utcnow()
    return user


async def issue_tokens(
    session: AsyncSession, settings: Settings, user: User, *, family: str | None = None
) -> tuple[str, str]:
    """A new access token and a refresh token in the given (or a new) family."""
    jti = uuid.uuid4().hex
    family = family or uuid.uuid4().hex
    account = account_stamp(user.created_at)
    refresh, expires = issue_refresh_token(
        settings, user_id=user.id, version=user.token_version, account=account, family=family,
        jti=jti,
    )
    session.add(RefreshToken(jti=jti, user_id=user.id, family_id=family, expires_at=expires))
    access = issue_access_token(settings, user_id=user.id, version=user.token_version,
                                account=account)
    return access, refresh


async def rotate_refresh_token(
    session: AsyncSession, settings: Settings, token: str
) -> tuple[str, str]:
    """Spend a refresh token for a new pair; a reused token revokes its whole family."""
    claims = decode_token(settings, token, expected_type=REFRESH)
    record = await session.get(RefreshToken, claims.jti)
    user = await session.get(User, claims.user_id)
    if (record is None or user is None or record.user_id != user.id
            or claims.account != account_stamp(user.created_at)):
        raise AuthRequired("Refresh token is not valid")
    if record.revoked_at is not None and record.used_at is None:
        raise AuthRequired("Refresh token has been revoked")  # signed out: not a reuse
    if claims.version != user.token_version:
        raise AuthRequired("Refresh token is no longer valid")
    # Claim the token atomically: of two concurrent uses exactly one wins.
    claimed = await rows_changed(
        session,
        update(RefreshToken)
        .where(
            RefreshToken.jti == record.jti,
            RefreshToken.used_at.is_(None),
            RefreshToken.revoked_at.is_(None),
        )
        .values(used_at=utcnow())
    )
    if claimed != 1:
        # Reuse means the token leaked: end every session descended from that sign-in.
        await _revoke(session, RefreshToken.family_id == record.family_id)
        await session.commit()  # the revocation must stand even though we refuse
        raise AuthRequired("Refresh token was already used; its sessions are revoked")
    return await issue_tokens(session, settings, user, family=record.family_id)


async def revoke_all_refresh_tokens(session: AsyncSession, user_id: int) -> None:
    await _revoke(session, RefreshToken.user_id == user_id)


async def end_sessions(session: AsyncSession, user_id: int) -> None:
    """Log out everywhere: every access and refresh token of the user stops working (the
    token version is checked wherever a user is loaded, so this costs requests nothing)."""
    user = await load_user(session, user_id)
    user.token_version += 1
    await revoke_all_refresh_tokens(session, user.id)


async def _revoke(session: AsyncSession, condition: ColumnElement[bool]) -> None:
    await session.execute(
        update(RefreshToken)
        .where(condition, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


async def load_user(session: AsyncSession, user_id: int) -> User:
    """The signed-in user's row in this session (it may have been deleted meanwhile)."""
    user = await session.get(User, user_id)
    if user is None:
        raise AuthRequired()
    return user


async def update_profile(session: AsyncSession, *, user_id: int, name: str) -> User:
    """Change the display name."""
    if not name.strip():
        raise ValidationFailed(["name: must not be blank"])
    user = await load_user(session, user_id)
    user.name = name.strip()
    await session.flush()
    return user


async def change_password(
    session: AsyncSession, *, user_id: int, current_password: str, new_password: str
) -> User:
    """Check the current password, store the new one, end every other session."""
    user = await load_user(session, user_id)
    if not await verify_password(current_password, user.password_hash):
        raise InvalidCredentials("Current password is incorrect")
    problems = password_problems(new_password, field="new_password")
    if problems:
        raise ValidationFailed(problems)
    await set_password(session, user, new_password)
    return user


async def set_password(session: AsyncSession, user: User, new_password: str) -> None:
    """Store a new password; earlier access and refresh tokens stop working."""
    user.password_hash = await hash_password(new_password)
    user.token_version += 1
    await revoke_all_refresh_tokens(session, user.id)
