"""Open streams end when their credential does: one periodic sweep per app over its SSE
streams and sockets re-checks each access token and closes those that fail.

A password change, a logout or the account's deletion makes `user_from_token` refuse the
token; the sweep notices within STREAM_REAUTH_SECONDS in the process that made the change,
and within AUTH_USER_CACHE_SECONDS more in every other process (the user cache's staleness
bound, the same as for ordinary requests). Nothing is done per event: delivery stays as
cheap as before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from crazy_gary.auth.cache import UserCache
from crazy_gary.auth.dependencies import user_from_token
from crazy_gary.config import Settings
from crazy_gary.db import Database
from crazy_gary.errors import AppError

log = logging.getLogger(__name__)

# Streams checked between two yields to the event loop, so a sweep over thousands of
# connections never holds up event delivery for long.
SLICE = 200


@dataclass(frozen=True, eq=False)
class Credential:
    """The access token a stream was opened with, and where to check it again."""

    database: Database
    settings: Settings
    token: str
    cache: UserCache | None = field(default=None)

    async def holds(self) -> bool:
        """False once the token no longer signs anyone in (revoked, expired, user gone).
        A check that cannot run (database unreachable) keeps the stream: it is retried on
        the next sweep."""
        try:
            await user_from_token(self.database, self.settings, self.token, self.cache)
        except AppError:
            return False
        except Exception as exc:
            log.warning("stream credential check failed (%s); kept until the next sweep", exc)
            return True
        return True


Close = Callable[[], Awaitable[None] | None]


class StreamGuard:
    """The open streams of one app, swept every `interval` seconds while any are open."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.streams: dict[object, tuple[Credential, Close]] = {}
        self._task: asyncio.Task[None] | None = None

    def watch(self, key: object, credential: Credential, close: Close) -> None:
        """Check `credential` on every sweep; call `close` (once) when it fails."""
        self.streams[key] = (credential, close)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="realtime-stream-guard")

    def forget(self, key: object) -> None:
        self.streams.pop(key, None)

    def __len__(self) -> int:
        return len(self.streams)

    async def _run(self) -> None:
        while self.streams:
            await asyncio.sleep(self.interval)
            try:
                await self.sweep()
            except Exception:  # never let one bad stream end the guard
                log.exception("stream credential sweep failed")

    async def sweep(self) -> int:
        """Check every open stream once (each distinct credential once); close the failed.
        Returns how many were closed."""
        verdicts: dict[tuple[int, str], bool] = {}
        closed = 0
        for n, (key, (credential, close)) in enumerate(list(self.streams.items()), 1):
            if n % SLICE == 0:
                await asyncio.sleep(0)
            if key not in self.streams:  # went away meanwhile
                continue
            which = (id(credential.database), credential.token)
            holds = verdicts.get(which)
            if holds is None:
                holds = verdicts[which] = await credential.holds()
            if holds:
                continue
            self.streams.pop(key, None)
            closed += 1
            try:
                result = close()
                if result is not None:
                    await result
            except Exception:
                log.warning("closing a revoked stream failed", exc_info=True)
        return closed
