"""Waiting for a state change by its event, instead of polling the database.

The waiter subscribes to this process's fan-out first, then reads the state (so no
change between the two is missed) and reads again only when a matching event arrives.
A re-read every `recheck` seconds covers a change published by a process whose events
do not reach this one (embedded mode with a separate worker, a Redis outage).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from crazy_gary import runtime
from crazy_gary.realtime.broker import PublishedEvent

T = TypeVar("T")

RECHECK_SECONDS = 1.0


async def wait_for(
    check: Callable[[], Awaitable[T | None]],
    *,
    user_id: int | None,
    match: Callable[[PublishedEvent], bool],
    within: float,
    recheck: float = RECHECK_SECONDS,
) -> T | None:
    """`check()`'s first non-None result, read again on each `match`ing event of the
    user's (None: of the system's); None when `within` seconds pass first."""
    deadline = time.monotonic() + within
    broker = runtime.current().fanout.broker
    sub = broker.subscribe(user_id)
    try:
        while True:
            found = await check()
            if found is not None:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            until = time.monotonic() + min(recheck, left)
            while (wait := until - time.monotonic()) > 0:
                if sub.overflowed:  # too many events to sort through: start afresh
                    broker.unsubscribe(sub)
                    sub = broker.subscribe(user_id)
                    break
                if any(match(e) for e in await sub.next_batch(wait)):
                    break
    finally:
        broker.unsubscribe(sub)
