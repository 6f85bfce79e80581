"""The durable execution engine (DBOS): one per process, owned by the runtime.

Workflows and steps are declared with DBOS decorators at import time; queues and
schedules must be registered after launch, so the runtime hands `DurableEngine.start` the
domains' registration coroutines (`startup.AFTER_LAUNCH`) and they run right after
`DBOS.launch()`. DBOS is a process-wide library: the runtime creates its one instance.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from dbos import DBOS, DBOSConfig, Queue

from crazy_gary.config import Settings

log = logging.getLogger(__name__)

def engine_config(settings: Settings) -> DBOSConfig:
    return {
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
    }


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

    def queue(self, name: str) -> Queue:
        try:
            return self.queues[name]
        except KeyError:
            raise RuntimeError("durable engine not launched") from None

    async def start(self, after_launch: Iterable[Callable[[], Awaitable[None]]]) -> None:
        """Start the engine: recover this executor's pending workflows, then register the
        queues and schedules (`after_launch`, in order)."""
        DBOS(config=engine_config(self.settings))
        DBOS.launch()
        self.launched = True
        for hook in after_launch:
            await hook()
        log.info("durable engine launched as executor %s", self.settings.executor_id)

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
