"""Build, start and stop a process's `Runtime` (the app lifespan and `crazy-gary worker`).

Start order: database (migrated) -> telemetry -> event fan-out and its outbox relay ->
endpoint manager and model service -> tool hub -> durable engine (which recovers this
executor's workflows, then registers queues and schedules) -> webhook dispatcher. Stop runs
in reverse.
`runtime.current()` is set before the first service starts (the engine's recovered
workflows read it) and cleared after the last one stopped.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from crazy_gary import runtime
from crazy_gary.agent.workflows import run_task
from crazy_gary.auth.cache import UserCache
from crazy_gary.auth.tokens import VerifiedTokens
from crazy_gary.config import Settings
from crazy_gary.db import Database
from crazy_gary.durable import DurableEngine
from crazy_gary.endpoints import workflows as endpoint_workflows
from crazy_gary.endpoints.health import huggingface_api_check
from crazy_gary.endpoints.service import EndpointManager
from crazy_gary.heavy import workflows as heavy_workflows
from crazy_gary.heavy.runtime import ChangeWaiters
from crazy_gary.llm.service import ModelService
from crazy_gary.migrations import upgrade
from crazy_gary.monitoring import workflows as monitoring_workflows
from crazy_gary.monitoring.cluster import ExecutorRegistry
from crazy_gary.monitoring.runtime import TelemetryServices
from crazy_gary.realtime.fanout import Fanout
from crazy_gary.realtime.outbox import Relay
from crazy_gary.realtime.revocation import StreamGuard
from crazy_gary.runtime import Runtime
from crazy_gary.schedules import engine as schedules_engine
from crazy_gary.tasks import forks as task_forks
from crazy_gary.tasks import queue as task_queue
from crazy_gary.toolhub.hub import ToolHub
from crazy_gary.users.listing import PageCache
from crazy_gary.webhooks.dispatch import Dispatcher

log = logging.getLogger(__name__)

# Run right after the engine launched, in this order: queues before the orphan re-enqueue
# that uses them; schedules last.
AFTER_LAUNCH: tuple[Callable[[], Awaitable[None]], ...] = (
    task_queue.register_queues,
    heavy_workflows.register_queue,
    task_queue.requeue_orphans,
    task_forks.requeue_orphan_retries,
    monitoring_workflows.register_schedule,
    endpoint_workflows.register_auto_sleep,
    schedules_engine.register_schedules,
)


def build_runtime(settings: Settings, *, socket_servers: Sequence[Any] = ()) -> Runtime:
    """Every service, constructed (nothing connects or starts yet)."""
    database = Database(settings.sqlalchemy_url, pool_size=settings.database_pool_size,
                        max_overflow=settings.database_max_overflow)
    fanout = Fanout(settings)
    for sio in socket_servers:
        fanout.add_socket_server(sio)
    endpoints = EndpointManager(settings)
    hub = ToolHub(settings)

    durable = DurableEngine(settings, task_workflow=run_task)

    async def mcp_check() -> dict[str, Any]:
        return hub.status()

    return Runtime(
        settings=settings,
        database=database,
        telemetry=TelemetryServices.build(settings, database),
        fanout=fanout,
        endpoints=endpoints,
        models=ModelService(settings, endpoints),
        hub=hub,
        durable=durable,
        user_cache=UserCache(settings.auth_user_cache_seconds),
        user_pages=PageCache(),
        verified_tokens=VerifiedTokens(),
        stream_guard=StreamGuard(settings.stream_reauth_seconds),
        orchestration_waiters=ChangeWaiters(),
        cluster=ExecutorRegistry(settings, database, durable),
        health_checks={"huggingface_api": huggingface_api_check, "mcp": mcp_check},
    )


@asynccontextmanager
async def start_runtime(settings: Settings, *, kind: str = "serve",
                        socket_servers: Sequence[Any] = ()) -> AsyncIterator[Runtime]:
    """The process's runtime, started in dependency order and stopped in reverse."""
    await asyncio.to_thread(upgrade, settings.sqlalchemy_url)
    _ = settings.jwt_secret_key  # generate the key file before the first request
    built = build_runtime(settings, socket_servers=socket_servers)
    if not settings.is_sqlite:
        await _warn_of_connection_shortfall(built.database, settings)
    runtime.install(built)
    try:
        async with AsyncExitStack() as stack:
            stack.push_async_callback(built.database.dispose)
            await built.telemetry.start(settings, built.database, kind=kind)
            stack.push_async_callback(built.telemetry.stop)
            await built.fanout.start()
            stack.push_async_callback(built.fanout.stop)
            # events a dead process committed but never fanned out
            relay = Relay(built.database, built.fanout, interval=settings.events_relay_seconds)
            await relay.start()
            stack.push_async_callback(relay.stop)
            stack.push_async_callback(built.endpoints.close)
            stack.push_async_callback(built.models.close)
            await built.hub.start()  # connections come up in the background
            stack.push_async_callback(built.hub.close)
            # registered and beating before the engine recovers this executor's
            # workflows, so no survivor claims them meanwhile
            await built.cluster.register(kind)
            built.cluster.start()
            stack.push_async_callback(built.cluster.stop)
            await built.durable.start(AFTER_LAUNCH)
            stack.push_async_callback(built.durable.stop)
            # promised webhook events -> deliveries (their workflows need the engine)
            dispatcher = Dispatcher(built.database,
                                    retention_days=settings.event_retention_days,
                                    taking_work=lambda: not built.durable.calls.closed)
            await dispatcher.start()
            stack.push_async_callback(dispatcher.stop)
            # first on the way out: drain, let calls in flight finish, mark this one gone
            stack.push_async_callback(leave, built)
            _settle_heap()
            yield built
    finally:
        runtime.install(None)


async def _warn_of_connection_shortfall(database: Database, settings: Settings) -> None:
    """Say at start-up, not at the first burst of 503s, when the pools could outgrow the
    PostgreSQL server."""
    try:
        shortfall = await database.connection_shortfall(
            engine_connections=settings.system_database_pool_size + 1)  # + its listener
    except SQLAlchemyError as exc:  # the check is advice; the start-up goes on
        log.info("could not count PostgreSQL's free connections: %s", type(exc).__name__)
        return
    if shortfall:
        log.warning("%s", shortfall)


async def drain(built: Runtime) -> None:
    """SIGTERM / Ctrl-C: take no new work and start no new model or tool call, say so in
    the registry, and tell SSE and socket.io clients to reconnect elsewhere. Idempotent."""
    await built.cluster.drain()
    await built.fanout.part()


async def leave(built: Runtime) -> None:
    """Drain, let the calls in flight finish for up to SHUTDOWN_GRACE_SECONDS, mark this
    executor gone (a survivor resumes its unfinished work at its next beat)."""
    await drain(built)
    await built.cluster.leave(built.settings.shutdown_grace_seconds)


def _settle_heap() -> None:
    """Everything allocated so far lives as long as the process: keep it out of the cyclic
    collector's full passes, which otherwise walk it all and stall every request. A larger
    young generation makes full passes (a pause proportional to every live object) rare;
    see bench/results/README.md."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 10)
