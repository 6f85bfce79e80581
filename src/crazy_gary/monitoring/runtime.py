"""A runtime's telemetry: the request/error recorder and its flusher, the error-log handler,
the in-memory span store and the read-tracing budget; started and stopped with the runtime."""

from __future__ import annotations

from dataclasses import dataclass

from crazy_gary.config import Settings
from crazy_gary.db import Database
from crazy_gary.monitoring import log_handler
from crazy_gary.monitoring.log_handler import DatabaseLogHandler
from crazy_gary.monitoring.recorder import Telemetry
from crazy_gary.observability.db import instrument_engine
from crazy_gary.observability.http import instrument_httpx
from crazy_gary.observability.store import SpanStore
from crazy_gary.observability.tracing import ReadBudget, setup_tracing


@dataclass
class TelemetryServices:
    recorder: Telemetry
    log_handler: DatabaseLogHandler
    spans: SpanStore
    read_budget: ReadBudget

    @classmethod
    def build(cls, settings: Settings, database: Database) -> TelemetryServices:
        recorder = Telemetry(database)
        return cls(recorder=recorder, log_handler=DatabaseLogHandler(recorder),
                   spans=SpanStore(), read_budget=ReadBudget(settings.trace_reads_per_second))

    async def start(self, settings: Settings, database: Database, *, kind: str) -> None:
        setup_tracing(settings, self.spans)
        instrument_httpx()
        instrument_engine(database.engine.sync_engine)  # direct reads trace themselves
        instrument_engine(database.blocking_engine)  # agent steps' thread transactions
        log_handler.install(self.log_handler)
        self.recorder.start(kind=kind, executor_id=settings.executor_id)

    async def stop(self) -> None:
        await self.recorder.stop()
        log_handler.uninstall(self.log_handler)
