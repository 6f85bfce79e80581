"""Administrator bootstrap for the CLI."""

from __future__ import annotations

import asyncio

from crazy_gary.auth import service as accounts
from crazy_gary.auth.passwords import password_problems
from crazy_gary.auth.validation import normalize_email
from crazy_gary.config import Settings
from crazy_gary.db import Database
from crazy_gary.errors import ValidationFailed
from crazy_gary.migrations import upgrade


async def ensure_admin(settings: Settings, *, email: str, password: str, name: str = "") -> int:
    """Create the admin, or promote the existing account and set its password."""
    await asyncio.to_thread(upgrade, settings.sqlalchemy_url)
    normalized, problems = normalize_email(email)
    problems += password_problems(password)
    if problems or normalized is None:
        raise ValidationFailed(problems)
    database = Database(settings.sqlalchemy_url)
    try:
        async with database.sessionmaker() as session:
            user = await accounts.get_user_by_email(session, normalized)
            if user is None:
                user = await accounts.create_user(
                    session, email=normalized, password=password, name=name, role="admin"
                )
            else:
                user.role = "admin"
                await accounts.set_password(session, user, password)
            await session.commit()
            return user.id
    finally:
        await database.dispose()
