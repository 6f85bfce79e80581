"""A short-lived, per-app cache of signed-in users, so an authenticated request needs no
database round trip just to learn who is asking.

Any change to a user row made through the ORM in this process (password change, role,
deletion, sign-in) drops the entry at once. Another process (scaled out) notices within
AUTH_USER_CACHE_SECONDS; 0 turns the cache off.

A miss reads the row with `db.fetch_all` (no session; on SQLite inline on the loop). Under
load every in-flight request misses together when the entry expires, and a session's
thread hops would each wait a whole turn of a busy event loop.
"""

from __future__ import annotations

import time
import weakref
from typing import Any

from sqlalchemy import bindparam, event, inspect, select
from sqlalchemy.orm import make_transient_to_detached

from crazy_gary.auth.models import User
from crazy_gary.db import Database, fetch_all

_caches: weakref.WeakSet[UserCache] = weakref.WeakSet()
_ATTRIBUTES = inspect(User).column_attrs
_BY_ID = select(*(attribute.columns[0].label(attribute.key) for attribute in _ATTRIBUTES)).where(
    User.__table__.c.id == bindparam("user_id"))


class UserCache:
    def __init__(self, ttl_seconds: float) -> None:
        self.ttl = ttl_seconds
        self._entries: dict[int, tuple[dict[str, Any], float]] = {}
        _caches.add(self)

    def snapshot(self, user_id: int) -> User | None:
        """A fresh detached copy of the cached user (never shared between requests), or None."""
        entry = self._entries.get(user_id)
        if entry is None:
            return None
        values, expires = entry
        if expires < time.monotonic():
            self._entries.pop(user_id, None)
            return None
        return _detached(values)

    async def load(self, database: Database, user_id: int) -> User | None:
        """The user as a detached snapshot: from the cache, else read from the database
        (and kept); None if there is no such user."""
        user = self.snapshot(user_id)
        if user is not None:
            return user
        values = await _read(database, user_id)
        if values is None:
            return None
        self._keep(user_id, values)
        return _detached(values)

    def _keep(self, user_id: int, values: dict[str, Any]) -> None:
        if self.ttl <= 0:
            return
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[user_id] = (values, time.monotonic() + self.ttl)

    def drop(self, user_id: int) -> None:
        self._entries.pop(user_id, None)


async def read_user(database: Database, user_id: int) -> User | None:
    """The user as a detached snapshot read from the database now (no cache)."""
    values = await _read(database, user_id)
    return None if values is None else _detached(values)


async def _read(database: Database, user_id: int) -> dict[str, Any] | None:
    rows = await fetch_all(database, _BY_ID, {"user_id": user_id})
    return rows[0]._asdict() if rows else None


def _detached(values: dict[str, Any]) -> User:
    user = User(**values)
    make_transient_to_detached(user)
    return user


def invalidate(user_id: int) -> None:
    """Forget a user in every cache of this process."""
    for cache in list(_caches):
        cache.drop(user_id)


@event.listens_for(User, "after_update")
@event.listens_for(User, "after_delete")
def _changed(_mapper, _connection, target: User) -> None:
    invalidate(target.id)
