"""The durable execution engine (DBOS): one per process, owned by the runtime.

Workflows and steps are declared with DBOS decorators at import time; queues and
schedules must be registered after launch, so the runtime hands `DurableEngine.start` the
domains' registration coroutines (`startup.AFTER_LAUNCH`) and they run right after
`DBOS.launch()`. DBOS is a process-wide library: the runtime creates its one instance.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, ParamSpec, TypeVar

import sqlalchemy as sa
from dbos import DBOS, DBOSConfig, Queue
from dbos._dbos import _get_dbos_instance

from crazy_gary import runtime
from crazy_gary.config import Settings

log = logging.getLogger(__name__)


def sqlite_system_connection(dbapi_connection: Any, _record: Any) -> None:
    """What DBOS sets on its own SQLite connections (IMMEDIATE transactions so writers
    queue instead of failing, a long busy timeout, foreign keys), plus write-ahead logging
    with synchronous=NORMAL: a step's checkpoint is one append to the log instead of a
    rollback journal created, synced and deleted (the largest share of the engine's time
    per step on SQLite). A killed process loses nothing; a power cut may lose the last
    checkpoints, which are then run again, as after any crash (the app database makes the
    same choice, db.py)."""
    for pragma in ("busy_timeout=30000", "foreign_keys=ON", "journal_mode=WAL",
                   "synchronous=NORMAL"):
        dbapi_connection.execute(f"PRAGMA {pragma}")
    dbapi_connection.isolation_level = "IMMEDIATE"


def system_database_engine(settings: Settings) -> sa.Engine | None:
    """The engine of the durable engine's own tables when they live in a SQLite file (None
    on PostgreSQL, where DBOS builds its own). The caller disposes of it after DBOS."""
    url = settings.dbos_system_database_url
    if not url.startswith("sqlite"):
        return None
    engine = sa.create_engine(url, pool_size=settings.system_database_pool_size, max_overflow=0,
                              pool_timeout=30, connect_args={"timeout": 30})
    sa.event.listen(engine, "connect", sqlite_system_connection)
    return engine


# Threads for the engine's blocking calls; its connections to the system database are
# SYSTEM_DATABASE_POOL_SIZE (20). Every checkpoint is a short call handed to a thread; a
# task waiting on a model holds neither, so these bound the engine's bursts, not the number
# of tasks in flight.
EXECUTOR_THREADS = 64


def engine_config(settings: Settings, system_engine: sa.Engine | None = None) -> DBOSConfig:
    config: DBOSConfig = {
        "name": "crazy_gary",
        "system_database_url": settings.dbos_system_database_url,
        "application_version": settings.app_version,
        "executor_id": settings.executor_id,
        "log_level": "WARNING",
        "scheduler_polling_interval_sec": settings.schedules_poll_seconds,
        # Workflow and step spans go to the process's tracer provider (observability), which
        # exports over OTLP only when OTEL_EXPORTER_OTLP_ENDPOINT is set; the trace context
        # travels with queued and recovered workflows, so one task is one trace.
        "enable_otlp": True,
        "sys_db_pool_size": settings.system_database_pool_size,
        "max_executor_threads": EXECUTOR_THREADS,
    }
    if system_engine is not None:
        config["system_database_engine"] = system_engine
    return config


P = ParamSpec("P")
R = TypeVar("R")


class CallGate:
    """Admits the process's model and tool calls (steps that act on the world).

    Closed when the process drains or finds it was declared dead: a call not yet started
    then waits for ever (the process is leaving; a survivor resumes the workflow from its
    last checkpoint), and `settled` tells when the calls already in flight (and their
    checkpoints) are done. While the process cannot prove it is still a live member of the
    cluster (its last confirmed heartbeat is older than `lease_seconds`, e.g. after a long
    pause), a call first asks `confirm` (set by the executor registry), and closes the gate
    if the answer is no: a process declared dead never starts a call on work taken over.
    """

    def __init__(self) -> None:
        self.closed = False
        self.fenced = False
        self.in_flight = 0
        self.blocked = 0  # calls waiting at the closed gate (their workflow goes no further)
        self.lease_seconds = float("inf")
        self.confirmed_at = time.monotonic()
        self.confirm: Callable[[], Awaitable[bool]] | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self._never = asyncio.Event()

    def close(self) -> None:
        self.closed = True

    def fence(self) -> None:
        """This process was declared dead: no call starts, and no request goes out."""
        self.fenced = True
        self.closed = True

    def confirmed(self) -> None:
        """The registry saw this process still registered as a member just now."""
        self.confirmed_at = time.monotonic()

    async def still_member(self) -> None:
        """Return only while this process may act for the cluster: when its membership is
        not confirmed recently, confirm it first; declared dead, wait for ever (the process
        is stopping itself)."""
        if not self.fenced and time.monotonic() - self.confirmed_at > self.lease_seconds \
                and self.confirm is not None and not await self.confirm():
            self.fence()
        if self.fenced:
            await self._never.wait()  # cancelled when the engine stops

    async def _admit(self) -> None:
        await self.still_member()
        if self.closed:
            self.blocked += 1
            await self._never.wait()  # cancelled when the engine stops

    @asynccontextmanager
    async def call(self) -> AsyncIterator[None]:
        await self._admit()
        self.in_flight += 1
        self._idle.clear()
        try:
            yield
        finally:
            self.in_flight -= 1
            if self.in_flight == 0:
                self._idle.set()

    async def settled(self, within: float) -> bool:
        """Wait up to `within` seconds for the calls in flight; whether they all ended."""
        try:
            await asyncio.wait_for(self._idle.wait(), within)
        except TimeoutError:
            return False
        return True


async def check_membership() -> None:
    """Called right before each model or tool request goes out (every attempt, retries
    included): a call admitted before a long pause sends nothing if the process was
    declared dead meanwhile (`CallGate.still_member`)."""
    current = runtime.running()
    if current is not None:
        await current.durable.calls.still_member()


def held_call(step: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
    """Run a durable step (a model or tool call) through the process's call gate, so a
    draining process starts no new call and waits for those in flight and their
    checkpoint (the step's output is recorded before the wrapped call returns)."""
    @functools.wraps(step)
    async def gated(*args: P.args, **kwargs: P.kwargs) -> R:
        async with runtime.current().durable.calls.call():
            return await step(*args, **kwargs)

    return gated


class DurableEngine:
    """The process's DBOS instance and the queues registered on it."""

    def __init__(self, settings: Settings, *,
                 task_workflow: Callable[[str], Coroutine[Any, Any, Any]] | None = None) -> None:
        self.settings = settings
        # The workflow that runs one agent task (`crazy_gary.agent.workflows.run_task`),
        # handed in by the process: the task queue enqueues it without importing the agent,
        # which sits above the tasks package.
        self.task_workflow = task_workflow
        self.queues: dict[str, Queue] = {}
        self.launched = False
        self.calls = CallGate()
        self.system_engine: sa.Engine | None = None

    @property
    def takes_queued_work(self) -> bool:
        """False on an API-only process (TASK_WORKER_CONCURRENCY=0): it dequeues nothing.
        Its own workflows (and those of dead executors it recovers) that were not queued,
        such as webhook deliveries, still run here."""
        return self.settings.task_worker_concurrency > 0

    def queue(self, name: str) -> Queue:
        try:
            return self.queues[name]
        except KeyError:
            raise RuntimeError("durable engine not launched") from None

    async def start(self, after_launch: Iterable[Callable[[], Awaitable[None]]]) -> None:
        """Start the engine: recover this executor's pending workflows, then register the
        queues and schedules (`after_launch`, in order)."""
        self.system_engine = system_database_engine(self.settings)
        DBOS(config=engine_config(self.settings, self.system_engine))
        if not self.takes_queued_work:
            DBOS.listen_queues([])
            log.warning("TASK_WORKER_CONCURRENCY=0: this process takes no queued work "
                        "(tasks, chat turns, orchestrations); `crazy-gary worker` runs it")
        DBOS.launch()
        self.launched = True
        for hook in after_launch:
            await hook()
        log.info("durable engine launched as executor %s", self.settings.executor_id)

    def stop_dequeuing(self) -> None:
        """Take no new work: the engine's background threads (the queue pollers among them)
        stop; workflows already running go on (their steps are checkpointed directly)."""
        if self.launched:
            for event in _get_dbos_instance().background_thread_stop_events:
                event.set()

    def active_workflows(self) -> int:
        """How many workflows this process is running now."""
        if not self.launched:
            return 0
        return len(_get_dbos_instance()._active_workflows_set.activeList())

    async def recover(self, executor_ids: list[str]) -> int:
        """Put the pending workflows of (dead) executors back on their queues: whichever
        live process dequeues one first runs it from its last checkpoint. Idempotent: a
        workflow another process already picked up is no longer the dead executor's."""
        handles = await asyncio.to_thread(DBOS._recover_pending_workflows, executor_ids)
        return len(handles)

    async def stop(self) -> None:
        """Stop the engine. It had installed its thread pool as the event loop's default
        executor and shuts that pool down, so the loop gets a fresh one: the services
        stopped after the engine (the telemetry's last flush, the tool hub) still run work
        in threads."""
        if self.launched:
            await asyncio.to_thread(DBOS.destroy, workflow_completion_timeout_sec=0)
            asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor())
            self.launched = False
            self.queues.clear()
        if self.system_engine is not None:  # ours, not DBOS's: DBOS leaves it open
            self.system_engine.dispose()
            self.system_engine = None
