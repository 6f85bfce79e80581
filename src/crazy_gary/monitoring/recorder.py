"""Per-process telemetry buffer: request and error records are written to the database in
batches off the request path; the process's CPU samples are kept here too (its heartbeat is
the executor registry's, monitoring/cluster.py)."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psutil
from sqlalchemy import Engine, insert

from crazy_gary.db import Database
from crazy_gary.kit.clock import utcnow
from crazy_gary.monitoring.models import ErrorLog, RequestLog

# Records from this logger are never stored (a failing flush must not feed itself).
log = logging.getLogger("crazy_gary.monitoring.recorder")

FLUSH_SECONDS = 1.0
CPU_SAMPLE_SECONDS = 5.0


class Telemetry:
    """Request and error rows buffered in memory, written each second; the process's CPU
    samples. One per runtime."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.process = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.requests: deque[dict[str, Any]] = deque(maxlen=50_000)
        self.errors: deque[dict[str, Any]] = deque(maxlen=5_000)
        self.cpu_samples: deque[tuple[float, float]] = deque(maxlen=120)
        self.kind = "serve"
        self.executor_id = ""
        self.started_at = utcnow()
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        # Its own writer thread: the loop's default executor belongs to the durable engine
        # while it runs and is shut down with it, which a flush must outlive.
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="telemetry")
        self.dropped = 0

    def record_request(self, row: dict[str, Any]) -> None:
        """Cheap and thread-safe: the flusher writes it within a second."""
        row["process"] = self.process
        self.requests.append(row)

    def record_error(self, row: dict[str, Any]) -> None:
        row["process"] = self.process
        self.errors.append(row)

    def start(self, *, kind: str, executor_id: str) -> None:
        if self._task is not None:
            return
        self.kind, self.executor_id = kind, executor_id
        psutil.cpu_percent(interval=None)  # prime: the next call measures since now
        self._stopping = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="monitoring-telemetry")

    async def stop(self) -> None:
        """Let a flush in progress finish (cancelling it would orphan rows already taken from
        the buffer), then write what is left."""
        if self._task is None:
            return
        self._stopping.set()
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None
        await self.flush()

    async def _run(self) -> None:
        last_sample = 0.0
        while not self._stopping.is_set():
            try:
                await asyncio.wait_for(self._stopping.wait(), FLUSH_SECONDS)
                return
            except TimeoutError:
                pass
            try:
                await self.flush()
                if time.monotonic() - last_sample >= CPU_SAMPLE_SECONDS:
                    last_sample = time.monotonic()
                    self.cpu_samples.append((time.time(), psutil.cpu_percent(interval=None)))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("telemetry flush failed: %s", exc)

    async def flush(self) -> None:
        """Write what was recorded, in one transaction on a worker thread (a second's worth
        of requests under load is thousands of rows: too much to encode on the loop)."""
        requests = _drain(self.requests)
        errors = _drain(self.errors)
        if not requests and not errors:
            return
        try:
            await asyncio.get_running_loop().run_in_executor(
                self._writer, _write, self.database.blocking_engine, requests, errors)
        except Exception:
            self.dropped += len(requests) + len(errors)
            raise

    def cpu_average(self, seconds: float) -> tuple[float | None, int]:
        """Mean CPU over the last `seconds` and how many samples it is based on."""
        horizon = time.time() - seconds
        recent = [value for at, value in self.cpu_samples if at >= horizon]
        return (sum(recent) / len(recent) if recent else None), len(recent)


def _write(engine: Engine, requests: list[dict[str, Any]], errors: list[dict[str, Any]]) -> None:
    with engine.begin() as connection:
        if requests:
            connection.execute(insert(RequestLog), requests)
        if errors:
            connection.execute(insert(ErrorLog), errors)


def _drain(buffer: deque[dict[str, Any]]) -> list[dict[str, Any]]:
    items = []
    while buffer:
        try:
            items.append(buffer.popleft())
        except IndexError:
            break
    return items

