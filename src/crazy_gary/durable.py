"""The durable execution engine (DBOS): configured once per process.

Workflows and steps are declared with DBOS decorators at import time; queues and
schedules must be registered after launch, so domains hand a coroutine to
`after_launch` and it runs right after `DBOS.launch()`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

from dbos import DBOS, DBOSConfig

from crazy_gary.config import Settings

log = logging.getLogger(__name__)

_after_launch: list[Callable[[], Awaitable[None]]] = []
_launched = False


def after_launch(fn: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
    """Register a coroutine function to run once the engine is up (queues, schedules)."""
    _after_launch.append(fn)
    return fn


def engine_config(settings: Settings) -> DBOSConfig:
    return {
        "name": "crazy_gary",
        "system_database_url": settings.dbos_system_database_url,
        "application_version": settings.app_version,
        "executor_id": settings.executor_id,
        "run_admin_server": False,
        "log_level": "WARNING",
        # Workflow and step spans go to the process's tracer provider (observability), which
        # exports over OTLP only when OTEL_EXPORTER_OTLP_ENDPOINT is set; the trace context
        # travels with queued and recovered workflows, so one task is one trace.
        "enable_otlp": True,
    }


async def launch(settings: Settings) -> None:
    """Start the engine: recover this executor's pending workflows, then run the hooks."""
    global _launched
    DBOS(config=engine_config(settings))
    DBOS.launch()
    _launched = True
    for hook in _after_launch:
        await hook()
    log.info("durable engine launched as executor %s", settings.executor_id)


def is_launched() -> bool:
    return _launched


async def shutdown() -> None:
    """Stop the engine. It had installed its thread pool as the event loop's default executor
    and shuts that pool down, so the loop gets a fresh one: the services stopped after the
    engine (the telemetry's last flush, the tool hub) still run work in threads."""
    global _launched
    if _launched:
        await asyncio.to_thread(DBOS.destroy, workflow_completion_timeout_sec=0)
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor())
        _launched = False
