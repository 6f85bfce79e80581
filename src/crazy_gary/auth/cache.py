"""A short-lived, per-app cache of signed-in users, so an authenticated request needs no
database round trip just to learn who is asking.

Any change to a user row made through the ORM in this process (password change, role,
deletion, sign-in) drops the entry at once. Another process (scaled out) notices within
AUTH_USER_CACHE_SECONDS; 0 turns the cache off.

A miss reads the row with `db.fetch_all` (no session; see `direct_reads`). Under
load every in-flight request misses together when the entry expires, and a session's
thread hops would each wait a whole turn of a busy event loop.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection, bindparam, event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapper

from crazy_gary import runtime
from crazy_gary.auth.models import User
from crazy_gary.auth.principal import USER_FIELDS, SignedInUser
from crazy_gary.db import Database, fetch_all

_t = User.__table__.c
_BY_ID = select(*(_t[name] for name in USER_FIELDS)).where(_t.id == bindparam("user_id"))


class UserCache:
    def __init__(self, ttl_seconds: float) -> None:
        self.ttl = ttl_seconds
        self._entries: dict[int, tuple[SignedInUser, float]] = {}

    async def load(self, database: Database, user_id: int) -> SignedInUser | None:
        """The user: from the cache, else read from the database (and kept); None if there
        is no such user."""
        entry = self._entries.get(user_id)
        if entry is not None:
            cached, expires = entry
            if time.monotonic() < expires:
                return cached
            self._entries.pop(user_id, None)
        user = await read_user(database, user_id)
        if user is not None:
            self._keep(user)
        return user

    def _keep(self, user: SignedInUser) -> None:
        if self.ttl <= 0:
            return
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[user.id] = (user, time.monotonic() + self.ttl)

    def drop(self, user_id: int) -> None:
        self._entries.pop(user_id, None)


async def read_user(database: Database, user_id: int) -> SignedInUser | None:
    """The user read from the database now (no cache)."""
    rows = await fetch_all(database, _BY_ID, {"user_id": user_id})
    return SignedInUser(**rows[0]) if rows else None


def invalidate(user_id: int) -> None:
    """Forget a user in the running runtime's cache (none runs in the CLI)."""
    running = runtime.running()
    if running is not None:
        running.user_cache.drop(user_id)


async def commit_user_change(session: AsyncSession, user_id: int) -> None:
    """Commit a revocation (logout, password change, deletion), then forget the user again:
    a request that read the row between the flush and the commit may have cached the old one."""
    await session.commit()
    invalidate(user_id)


@event.listens_for(User, "after_update")
@event.listens_for(User, "after_delete")
def _changed(_mapper: Mapper[Any], _connection: Connection, target: User) -> None:
    invalidate(target.id)
