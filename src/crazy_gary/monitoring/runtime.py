"""Per-process start/stop of telemetry: tracing, DB spans, the error-log handler, the flusher."""

from __future__ import annotations

from crazy_gary.config import Settings
from crazy_gary.db import Database
from crazy_gary.monitoring import log_handler
from crazy_gary.monitoring.recorder import telemetry
from crazy_gary.observability.db import instrument_engine
from crazy_gary.observability.http import instrument_httpx
from crazy_gary.observability.tracing import setup_tracing


async def start(settings: Settings, database: Database, *, kind: str = "serve") -> None:
    setup_tracing(settings)
    instrument_httpx()
    instrument_engine(database.engine.sync_engine)  # direct reads trace themselves
    log_handler.install()
    telemetry.start(kind=kind, executor_id=settings.executor_id)


async def stop() -> None:
    await telemetry.stop()
