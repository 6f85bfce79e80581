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
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

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
from crazy_gary.monitoring.runtime import TelemetryServices
from crazy_gary.realtime.fanout import Fanout
from crazy_gary.realtime.outbox import Relay
from crazy_gary.realtime.revocation import StreamGuard
from crazy_gary.runtime import Runtime
from crazy_gary.tasks import queue as task_queue
from crazy_gary.toolhub.hub import ToolHub
from crazy_gary.users.listing import PageCache
from crazy_gary.webhooks.dispatch import Dispatcher

# Run right after the engine launched, in this order: queues before the orphan re-enqueue
# that uses them; schedules last.
AFTER_LAUNCH: tuple[Callable[[], Awaitable[None]], ...] = (
    task_queue.register_queues,
    heavy_workflows.register_queue,
    task_queue.requeue_orphans,
    monitoring_workflows.register_schedule,
    endpoint_workflows.register_auto_sleep,
)


def build_runtime(settings: Settings, *, socket_servers: Sequence[Any] = ()) -> Runtime:
    """Every service, constructed (nothing connects or starts yet)."""
    database = Database(settings.sqlalchemy_url)
    fanout = Fanout(settings)
    for sio in socket_servers:
        fanout.add_socket_server(sio)
    endpoints = EndpointManager(settings)
    hub = ToolHub(settings)

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
        durable=DurableEngine(settings, task_workflow=run_task),
        user_cache=UserCache(settings.auth_user_cache_seconds),
        user_pages=PageCache(),
        verified_tokens=VerifiedTokens(),
        stream_guard=StreamGuard(settings.stream_reauth_seconds),
        orchestration_waiters=ChangeWaiters(),
        health_checks={"huggingface_api": huggingface_api_check, "mcp": mcp_check},
    )


@asynccontextmanager
async def start_runtime(settings: Settings, *, kind: str = "serve",
                        socket_servers: Sequence[Any] = ()) -> AsyncIterator[Runtime]:
    """The process's runtime, started in dependency order and stopped in reverse."""
    await asyncio.to_thread(upgrade, settings.sqlalchemy_url)
    _ = settings.jwt_secret_key  # generate the key file before the first request
    built = build_runtime(settings, socket_servers=socket_servers)
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
            await built.hub.start()  # connections come up in the background
            stack.push_async_callback(built.hub.close)
            await built.durable.start(AFTER_LAUNCH)
            stack.push_async_callback(built.durable.stop)
            # promised webhook events -> deliveries (their workflows need the engine)
            dispatcher = Dispatcher(built.database,
                                    retention_days=settings.event_retention_days)
            await dispatcher.start()
            stack.push_async_callback(dispatcher.stop)
            _settle_heap()
            yield built
    finally:
        runtime.install(None)


def _settle_heap() -> None:
    """Everything allocated so far lives as long as the process: keep it out of the cyclic
    collector's full passes, which otherwise walk it all and stall every request. A larger
    young generation makes full passes (a pause proportional to every live object) rare;
    see bench/results/README.md."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 10)
