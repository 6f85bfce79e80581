"""One unit of work per session: what must follow a commit is collected while the
transaction runs and done once it is committed.

A service adds the state change, the event row that describes it (`realtime.outbox.record`)
and any durable work to enqueue (`after_commit`) to the same session. When that session
commits, the collected jobs run in the order they were collected; when it rolls back they
are dropped, so nobody is ever told about (or asked to work on) a change that did not happen.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

log = logging.getLogger(__name__)

AfterCommit = Callable[[], Awaitable[None]]

_COLLECTED = "uow_collected"
_COMMITTED = "uow_committed"


def after_commit(session: AsyncSession | Session, job: AfterCommit) -> None:
    """Run `job` once the session's current transaction commits (never if it rolls back)."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    sync.info.setdefault(_COLLECTED, []).append(job)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    jobs = session.info.pop(_COLLECTED, None)
    if jobs:
        session.info.setdefault(_COMMITTED, []).extend(jobs)


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    if not previous_transaction.nested:  # a savepoint's rollback keeps the outer transaction
        session.info.pop(_COLLECTED, None)


def committed_jobs(session: Session) -> list[AfterCommit]:
    """Take the jobs of the session's committed transactions (to run on the event loop)."""
    jobs: list[AfterCommit] = session.info.pop(_COMMITTED, None) or []
    return jobs


async def run_jobs(jobs: list[AfterCommit]) -> None:
    """Run committed jobs in order; every job runs, the first failure is raised."""
    failure: BaseException | None = None
    for job in jobs:
        try:
            await job()
        except Exception as exc:
            if failure is None:
                failure = exc
            else:
                log.exception("after-commit job failed")
    if failure is not None:
        raise failure


async def run_committed(session: AsyncSession) -> None:
    """Run the jobs of the session's committed transactions."""
    await run_jobs(committed_jobs(session.sync_session))


class UnitOfWorkSession(AsyncSession):
    """An AsyncSession whose commit also runs what the transaction collected."""

    async def commit(self) -> None:
        await super().commit()
        await run_committed(self)

    async def close(self) -> None:
        try:  # a transaction committed another way (`async with session.begin()`)
            await run_committed(self)
        finally:
            await super().close()


P = ParamSpec("P")
T = TypeVar("T")


def in_async_session(
    work: Callable[Concatenate[Session, P], T],
) -> Callable[Concatenate[AsyncSession, P], Coroutine[Any, Any, T]]:
    """The async form of `work(session, ...)`, a unit of work written for a synchronous
    session: run through `AsyncSession.run_sync` in the caller's transaction. One body
    serves both a request's async session and `db.thread_transaction`."""
    async def in_session(session: AsyncSession, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await session.run_sync(work, *args, **kwargs)

    in_session.__doc__, in_session.__qualname__ = work.__doc__, work.__qualname__
    return in_session
