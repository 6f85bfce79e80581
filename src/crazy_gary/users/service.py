"""User administration rules: ownership, roles and the last admin."""

from __future__ import annotations

import shutil
from typing import cast

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crazy_gary.auth import service as accounts
from crazy_gary.auth.models import User
from crazy_gary.auth.passwords import password_problems, verify_password
from crazy_gary.auth.principal import SignedInUser
from crazy_gary.auth.validation import normalize_email
from crazy_gary.config import Settings
from crazy_gary.db import Database, fetch_all
from crazy_gary.errors import (
    Conflict,
    InsufficientPermissions,
    InvalidCredentials,
    NotFound,
    UserExists,
    ValidationFailed,
)
from crazy_gary.kit.pagination import Page
from crazy_gary.users.schemas import UserCreate, UserRead, UserUpdate
from crazy_gary.users.work import stop_work

_t = User.__table__.c
# Named as in the response schema (users.schemas.UserRead).
LISTED = (_t.id, _t.username, _t.email, _t.name, _t.role, _t.created_at, _t.last_login,
          _t.password_hash.is_not(None).label("has_password"))
_COUNT = select(func.count().label("total")).select_from(User)
# The total as an uncorrelated subquery: evaluated once, and cheaper than a window count
# (which makes SQLite sort the whole table into a temporary tree).
_PAGE = (select(*LISTED, _COUNT.scalar_subquery().label("total")).order_by(_t.id)
         .limit(bindparam("limit")).offset(bindparam("offset")))


async def list_users(database: Database, *, page: Page) -> tuple[list[UserRead], int]:
    """One page of users by id (plain rows: a list needs no ORM objects or session) and
    the total, in one query unless the page is empty."""
    rows = await fetch_all(database, _PAGE, {"limit": page.limit, "offset": page.offset})
    if rows:
        # The rows' columns are UserRead's keys (LISTED) plus the total, which encoding drops.
        return cast(list[UserRead], rows), rows[0]["total"]
    return [], (await fetch_all(database, _COUNT))[0]["total"]


async def get_visible_user(
    session: AsyncSession, *, actor: SignedInUser, user_id: int
) -> User:
    """A user sees themself; an admin sees everyone; any other id does not exist."""
    if not actor.is_admin and actor.id != user_id:
        raise NotFound("User not found")
    user = await accounts.get_user(session, user_id)
    if user is None:
        raise NotFound("User not found")
    return user


async def create_user(session: AsyncSession, *, data: UserCreate) -> User:
    """An admin creates an account; without a password it cannot sign in until one is set."""
    return await accounts.create_user(
        session,
        email=data.email,
        password=data.password,
        name=data.name,
        username=data.username,
        role=data.role,
    )


async def update_user(
    session: AsyncSession, *, actor: SignedInUser, user_id: int, data: UserUpdate
) -> User:
    """Apply the given fields; roles and passwords are an admin's to change."""
    user = await get_visible_user(session, actor=actor, user_id=user_id)
    if data.role is not None and data.role != user.role and not actor.is_admin:
        raise InsufficientPermissions("Only an administrator can change a role")
    if data.password is not None and not actor.is_admin:
        raise InsufficientPermissions("Use /api/auth/change-password to change your password")
    problems: list[str] = []
    email = None
    if data.email is not None:
        email, email_problems = normalize_email(data.email)
        problems += email_problems
    if data.password is not None:
        problems += password_problems(data.password)
    own_email_change = actor.id == user.id and email is not None and email != user.email
    if own_email_change and data.current_password is None:
        problems.append("current_password: required to change your email")
    if problems:
        raise ValidationFailed(problems)
    if own_email_change and not await verify_password(data.current_password or "",
                                                      user.password_hash):
        raise InvalidCredentials("Current password is incorrect")
    if data.role is not None and data.role != user.role:
        if user.role == "admin":
            await _ensure_not_last_admin(session, user)
        user.role = data.role
    if email is not None and email != user.email:
        if await accounts.get_user_by_email(session, email) is not None:
            raise UserExists()
        user.email = email
    if data.username is not None and data.username != user.username:
        if await accounts.username_taken(session, data.username, except_id=user.id):
            raise UserExists("Username already taken", details={"field": "username"})
        user.username = data.username
    if data.name is not None:
        user.name = data.name.strip() or user.name
    if data.password is not None:
        await accounts.set_password(session, user, data.password)
    await accounts.flush_unique(session)
    return user


async def delete_user(session: AsyncSession, *, user_id: int) -> None:
    """Delete an account with everything it owns in the database (its tasks, chat turns,
    orchestrations, events and refresh tokens go by foreign-key cascade); the last admin
    stays. Its running work is stopped first, so no worker writes for a user that is gone.
    The caller commits, then removes the workspace (`remove_workspace`)."""
    user = await accounts.get_user(session, user_id)
    if user is None:
        raise NotFound("User not found")
    if user.is_admin:
        await _ensure_not_last_admin(session, user)
    await stop_work(user.id)
    await session.delete(user)
    await session.flush()


def remove_workspace(settings: Settings, user_id: int) -> None:
    """Delete the user's workspace directory (ids are never reused, so nothing else will
    ever be given this directory; removing it frees the space and the files)."""
    shutil.rmtree(settings.workspaces_dir / str(user_id), ignore_errors=True)


async def _ensure_not_last_admin(session: AsyncSession, user: User) -> None:
    admins = await session.scalar(
        select(func.count()).select_from(User).where(User.role == "admin", User.id != user.id)
    )
    if not admins:
        raise Conflict("The last administrator cannot be removed or demoted")
