"""The endpoint manager: status records, wake/sleep operations, wake on demand.

Every process has one manager; they agree through the `model_endpoints` table. An
operation is claimed with a conditional UPDATE (only one process moves an endpoint
to `waking` or `stopping`), so concurrent wakes start it once. Operations run as
background tasks; callers that need the model poll the record until it is running.
"""

# ruff: noqa: ASYNC109 - a per-call `timeout=` in seconds is part of the interface

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crazy_gary import runtime
from crazy_gary.config import MODEL_KEYS, Settings
from crazy_gary.db import session_scope, utcnow
from crazy_gary.endpoints.models import EndpointRecord
from crazy_gary.endpoints.providers import (
    STATUSES,
    HfProvider,
    Observed,
    ProcessProvider,
    Provider,
    ProviderError,
    UrlProvider,
)
from crazy_gary.errors import Conflict, EndpointUnavailable, NotFound
from crazy_gary.kit.dml import rows_changed
from crazy_gary.observability.metrics import ENDPOINT_STATE
from crazy_gary.realtime import record
from crazy_gary.realtime.broker import PublishedEvent
from crazy_gary.realtime.waits import wait_for

log = logging.getLogger(__name__)

OPERATING = ("waking", "stopping")
ALIASES = {**{k: k for k in MODEL_KEYS}, **{f"gpt-oss-{k}": k for k in MODEL_KEYS}}


def endpoint_key(model_type: str) -> str:
    """"120b"/"20b" (or the full model name) -> key; anything else is 404."""
    key = ALIASES.get((model_type or "").lower())
    if key is None:
        raise NotFound(f"Unknown endpoint '{model_type}'; known: {', '.join(MODEL_KEYS)}",
                       details={"model_type": model_type, "allowed": list(MODEL_KEYS)})
    return key


def _epoch(value: datetime | None) -> int | None:
    return int(value.timestamp()) if value else None


def _set_gauge(key: str, status: str) -> None:
    for state in STATUSES:
        ENDPOINT_STATE.labels(model=key, state=state).set(1 if state == status else 0)


class CallStats:
    """Recent outcomes of calls to the endpoints (models and HF API) for health."""

    def __init__(self, window: int = 200) -> None:
        self.calls: deque[tuple[float, bool, float]] = deque(maxlen=window)

    def add(self, ok: bool, latency_ms: float) -> None:
        self.calls.append((time.time(), ok, latency_ms))

    def error_rate(self, since_seconds: float = 900) -> float:
        cutoff = time.time() - since_seconds
        recent = [ok for t, ok, _ in self.calls if t >= cutoff]
        return round(1 - sum(recent) / len(recent), 3) if recent else 0.0


class EndpointManager:
    def __init__(self, settings: Settings, *, record_prefix: str = "") -> None:
        self.settings = settings
        # Records are keyed "120b"/"20b"; a prefix lets a test run its own manager beside
        # the service's without sharing rows.
        self.prefix = record_prefix
        self.providers: dict[str, Provider | None] = {
            key: self._build_provider(key) for key in MODEL_KEYS}
        self.stats = CallStats()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._refreshed: dict[str, float] = {}
        self._activity_written: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    # -- configuration -------------------------------------------------------------
    def _build_provider(self, key: str) -> Provider | None:
        s = self.settings
        base_url = s.model_setting(key, "base_url")
        command = s.model_setting(key, "command")
        hf_ref = s.model_setting(key, "hf_endpoint")
        if command:
            if not base_url:
                raise ValueError(f"MODEL_{key.upper()}_COMMAND needs MODEL_{key.upper()}_BASE_URL")
            return ProcessProvider(command, base_url=base_url, api_key=s.model_api_key,
                                   log_dir=s.resolved_data_dir / "logs", name=key,
                                   grace_seconds=s.endpoint_stop_grace_seconds,
                                   on_exit=partial(self._on_exit, key))
        if hf_ref:
            return HfProvider(hf_ref, token=s.huggingface_api_key, api_url=s.hf_endpoints_api_url,
                              base_url=base_url, api_key=s.model_api_key,
                              poll_seconds=s.endpoint_poll_seconds)
        if base_url:
            return UrlProvider(base_url, s.model_api_key)
        return None

    def provider(self, key: str) -> Provider | None:
        return self.providers.get(key)

    def _lock(self, key: str) -> asyncio.Lock:
        return self._locks.setdefault(key, asyncio.Lock())

    # -- records ---------------------------------------------------------------------
    async def _record(self, key: str) -> EndpointRecord:
        async with session_scope() as session:
            rec = await session.get(EndpointRecord, self.prefix + key)
            if rec is None:
                provider = self.provider(key)
                rec = EndpointRecord(
                    key=self.prefix + key, provider=provider.kind if provider else "none",
                    status="sleeping" if provider and provider.manageable else "unreachable")
                session.add(rec)
                try:
                    await session.flush()
                except Exception:  # another process created it first
                    await session.rollback()
                    rec = (await session.execute(select(EndpointRecord).where(
                        EndpointRecord.key == self.prefix + key))).scalar_one()
            return rec

    async def _set(self, key: str, *, only_if: tuple[str, ...] | None = None,
                   not_if: tuple[str, ...] | None = None, stale_before: datetime | None = None,
                   alert: dict[str, Any] | None = None, **values: Any) -> bool:
        """Update the record (conditionally); when the status changed, its `endpoint_status`
        (and `alert` as a `system_alert`) in the same transaction."""
        await self._record(key)
        async with session_scope() as session:
            old = (await session.execute(select(EndpointRecord.status).where(
                EndpointRecord.key == self.prefix + key))).scalar_one()
            stmt = update(EndpointRecord).where(EndpointRecord.key == self.prefix + key)
            if only_if is not None:
                stmt = stmt.where(EndpointRecord.status.in_(only_if))
            if not_if is not None:
                cond: ColumnElement[bool] = EndpointRecord.status.not_in(not_if)
                if stale_before is not None:  # an operation whose owner vanished
                    cond = or_(cond, and_(EndpointRecord.status.in_(OPERATING),
                                          EndpointRecord.operation_started < stale_before))
                stmt = stmt.where(cond)
            values["updated_at"] = utcnow()
            changed = await rows_changed(session, stmt.values(**values)) == 1
            new = values.get("status")
            if changed and new and new != old:
                self._announce(session, key, old, new, values.get("last_error"))
            if changed and alert is not None:
                record(session, "system_alert", alert)
        return changed

    def _announce(self, session: AsyncSession, key: str, old: str, new: str,
                  error: str | None) -> None:
        """The status change's `endpoint_status`, in the transaction of the change."""
        _set_gauge(key, new)
        record(session, "endpoint_status", {"model_type": key, "status": new,
                                            "previous_status": old, "error": error})

    def view(self, rec: EndpointRecord) -> dict[str, Any]:
        """The contract's status body for one endpoint."""
        provider = self.provider(rec.key.removeprefix(self.prefix))
        auto_sleep_in = None
        if rec.status == "running" and provider is not None and provider.manageable:
            since = max((t for t in (rec.last_activity, rec.wake_time) if t),
                        default=rec.updated_at)
            idle = (utcnow() - since).total_seconds()
            auto_sleep_in = max(0, int(self.settings.endpoint_auto_sleep_seconds - idle))
        return {"status": rec.status, "url": rec.url, "last_activity": _epoch(rec.last_activity),
                "wake_time": _epoch(rec.wake_time), "sleep_time": _epoch(rec.sleep_time),
                "auto_sleep_in": auto_sleep_in, "provider": rec.provider,
                "manageable": bool(provider and provider.manageable),
                "last_error": rec.last_error}

    # -- observing ---------------------------------------------------------------------
    async def refresh(self, key: str, *, max_age: float = 2.0) -> EndpointRecord:
        """The record, brought up to date with what the provider reports."""
        rec = await self._record(key)
        provider = self.provider(key)
        if provider is None:
            if rec.status != "unreachable" or rec.last_error != "not configured":
                await self._set(key, status="unreachable", last_error="not configured",
                                provider="none")
            return await self._record(key)
        if time.monotonic() - self._refreshed.get(key, -1e9) < max_age:
            return rec
        stale = utcnow() - timedelta(seconds=self.settings.endpoint_wake_timeout_seconds)
        if rec.status in OPERATING and rec.operation_started and rec.operation_started > stale:
            return rec  # the operation's owner decides how it ends
        started = time.monotonic()
        observed = await provider.observe()
        self._refreshed[key] = time.monotonic()
        if provider.kind == "hf":
            self.stats.add(observed.status != "unreachable", (time.monotonic() - started) * 1000)
        await self._apply(key, rec, observed, provider)
        rec = await self._record(key)
        _set_gauge(key, rec.status)
        return rec

    async def _apply(self, key: str, rec: EndpointRecord, observed: Observed,
                     provider: Provider) -> None:
        status = observed.status
        if rec.status == "failed" and status == "sleeping":
            status = "failed"  # a crashed process stays failed until someone wakes it
        if rec.status in ("stopping", "sleeping") and status == "failed" and \
                provider.kind == "process":
            status = "sleeping"  # another process stopped our child on purpose
        values: dict[str, Any] = {"provider": provider.kind}
        if observed.url and observed.url != rec.url:
            values["url"] = observed.url
        if status != rec.status:
            values["status"] = status
            values["operation_started"] = None
            if status == "running":  # woken from outside (console, another tool)
                values["wake_time"] = utcnow()
            if status == "sleeping" and rec.status in ("running", "stopping"):
                values["sleep_time"] = utcnow()
            values["last_error"] = observed.error
        if len(values) > 1 or "status" in values or rec.provider != provider.kind:
            # Only if nobody changed the status since we read it (another process may
            # have just claimed an operation).
            await self._set(key, only_if=(rec.status,), **values)

    async def status_all(self) -> dict[str, dict[str, Any]]:
        return {key: self.view(await self.refresh(key)) for key in MODEL_KEYS}

    async def status_one(self, key: str) -> dict[str, Any]:
        return self.view(await self.refresh(key))

    # -- operations ----------------------------------------------------------------------
    def _manageable(self, key: str) -> Provider:
        provider = self.provider(key)
        if provider is None:
            raise Conflict(f"The {key} endpoint is not configured",
                           details={"model_type": key})
        if not provider.manageable:
            raise Conflict(f"The {key} endpoint is a plain URL and cannot be woken or put to "
                           "sleep", details={"model_type": key, "provider": provider.kind})
        return provider

    async def wake(self, key: str) -> bool:
        """Start waking (at most once across processes); True when this call started it."""
        provider = self._manageable(key)
        rec = await self.refresh(key, max_age=0)
        async with self._lock(key):
            stale = utcnow() - timedelta(seconds=self.settings.endpoint_wake_timeout_seconds)
            if rec.status == "stopping" and rec.operation_started and \
                    rec.operation_started > stale:
                # Let the sleep finish first, then wake (still returning at once).
                self._spawn(f"{key}:after-stop", self._wake_after_stop(key))
                return True
            claimed = await self._set(key, not_if=("running", "waking", "stopping"),
                                      stale_before=stale, status="waking",
                                      operation_started=utcnow(), last_error=None)
            if not claimed:
                return False
            self._spawn(key, self._run_wake(key, provider))
            return True

    async def _wake_after_stop(self, key: str) -> None:
        deadline = time.monotonic() + self.settings.endpoint_wake_timeout_seconds
        while time.monotonic() < deadline:
            task = self._tasks.get(key)
            if task is not None:
                await asyncio.wait([task])
            rec = await self.refresh(key, max_age=0.5)
            if rec.status != "stopping":
                await self.wake(key)
                return
            await asyncio.sleep(0.2)

    async def touch(self, key: str) -> None:
        """Count a model call starting now as activity (keeps auto-sleep away mid-call)."""
        provider = self.provider(key)
        now = time.monotonic()
        if provider is not None and provider.manageable and \
                now - self._activity_written.get(key, -1e9) >= 1.0:
            self._activity_written[key] = now
            await self._set(key, last_activity=utcnow())

    async def sleep(self, key: str, *, wait: bool = False, idle_before: datetime | None = None,
                    ) -> bool:
        """Start putting the endpoint to sleep; True when this call started it."""
        provider = self._manageable(key)
        async with self._lock(key):
            claimed = await self._claim_sleep(key, idle_before)
            if not claimed:
                return False
            task = self._spawn(key, self._run_sleep(key, provider))
        if wait:
            await task
        return True

    async def _claim_sleep(self, key: str, idle_before: datetime | None) -> bool:
        await self._record(key)
        async with session_scope() as session:
            old = (await session.execute(select(EndpointRecord.status).where(
                EndpointRecord.key == self.prefix + key))).scalar_one()
            stmt = update(EndpointRecord).where(EndpointRecord.key == self.prefix + key)
            if idle_before is not None:  # auto-sleep: only a running, idle endpoint
                stmt = stmt.where(EndpointRecord.status == "running", or_(
                    EndpointRecord.last_activity.is_(None),
                    EndpointRecord.last_activity < idle_before)).where(or_(
                        EndpointRecord.wake_time.is_(None),
                        EndpointRecord.wake_time < idle_before))
            else:
                stmt = stmt.where(EndpointRecord.status.not_in(("sleeping", "stopping")))
            claimed = await rows_changed(session, stmt.values(
                status="stopping", operation_started=utcnow(), updated_at=utcnow())) == 1
            if claimed and old != "stopping":
                self._announce(session, key, old, "stopping", None)
        return claimed

    def _spawn(self, key: str, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks[key] = task
        task.add_done_callback(lambda t: self._tasks.pop(key, None) if self._tasks.get(key) is t
                               else None)
        return task

    async def _run_wake(self, key: str, provider: Provider) -> None:
        try:
            observed = await provider.wake(self.settings.endpoint_wake_timeout_seconds)
        except asyncio.CancelledError:
            await self._set(key, status="failed", operation_started=None,
                            last_error="wake interrupted")
            raise
        except (ProviderError, Exception) as exc:  # noqa: BLE001 - recorded as the error
            log.warning("waking %s failed: %s", key, exc)
            await self._set(key, status="failed", operation_started=None, last_error=str(exc))
            return
        now = utcnow()
        values: dict[str, Any] = {"status": "running", "wake_time": now, "last_activity": now,
                                  "operation_started": None, "last_error": None}
        if observed.url:
            values["url"] = observed.url
        if isinstance(provider, ProcessProvider):
            values["pid"] = provider.pid
        await self._set(key, **values)

    async def _run_sleep(self, key: str, provider: Provider) -> None:
        rec = await self._record(key)
        try:
            await provider.sleep(pid=rec.pid)
        except Exception as exc:  # noqa: BLE001
            log.warning("sleeping %s failed: %s", key, exc)
            await self._set(key, status="failed", operation_started=None, last_error=str(exc))
            return
        await self._set(key, status="sleeping", sleep_time=utcnow(), operation_started=None,
                        pid=None, last_error=None)

    async def _on_exit(self, key: str, code: int) -> None:
        """A local model server died on its own: mark failed and raise an alert."""
        message = f"model server process exited unexpectedly with code {code}"
        # Not a crash when another process is stopping it on purpose (it kills by pid).
        await self._set(key, only_if=("running", "waking", "failed"), status="failed",
                        operation_started=None, pid=None, last_error=message,
                        alert={"type": "endpoint_failed", "severity": "critical",
                               "model_type": key, "message": message})

    # -- used by model calls -------------------------------------------------------------
    async def ensure_ready(self, key: str, *,
                           on_wait: Callable[[str], Awaitable[None]] | None = None,
                           timeout: float | None = None) -> str:
        """The base URL to call, waking the endpoint and waiting when it is asleep."""
        provider = self.provider(key)
        if provider is None:
            raise EndpointUnavailable(f"The {key} model endpoint is not configured",
                                      details={"model_type": key})
        if not provider.manageable:
            return provider.call_url(None) or ""
        rec = await self.refresh(key)
        if rec.status == "running":
            url = provider.call_url(rec.url)
            if url:
                return url
        timeout = self.settings.endpoint_wake_timeout_seconds if timeout is None else timeout
        if on_wait is not None:
            await on_wait(f"waiting_for_model: gpt-oss-{key} is {rec.status}; waking it")
        if rec.status != "waking":
            await self.wake(key)
        last = rec.status

        async def ready() -> str | None:
            nonlocal last
            rec = await self.refresh(key, max_age=1.0)
            last = rec.status
            if rec.status == "running" and provider.call_url(rec.url):
                return provider.call_url(rec.url)
            if rec.status == "failed":
                raise EndpointUnavailable(f"The {key} endpoint failed: {rec.last_error}",
                                          details={"model_type": key, "status": "failed"})
            if rec.status in ("sleeping", "unreachable"):
                await self.wake(key)
            return None

        def about_it(event: PublishedEvent) -> bool:
            return event.event == "endpoint_status" and event.data.get("model_type") == key

        # Woken by this endpoint's `endpoint_status` events; re-read each second anyway
        # (the provider is observed then, as the waking operation's owner may be elsewhere).
        url = await wait_for(ready, user_id=None, match=about_it, within=timeout, recheck=1.0)
        if url is None:
            raise EndpointUnavailable(f"The {key} endpoint did not wake within {timeout:.0f}s",
                                      details={"model_type": key, "status": last})
        return url

    async def record_call(self, key: str, *, ok: bool, latency_ms: float,
                          error: str | None = None, reachable: bool = True) -> None:
        """Count a model call as activity (and, for a bare URL, as its status)."""
        self.stats.add(ok, latency_ms)
        provider = self.provider(key)
        if provider is None:
            return
        now = time.monotonic()
        if provider.manageable:
            if ok and now - self._activity_written.get(key, -1e9) >= 1.0:
                self._activity_written[key] = now
                await self._set(key, last_activity=utcnow())
            return
        if ok:
            if now - self._activity_written.get(key, -1e9) >= 1.0:
                self._activity_written[key] = now
                await self._set(key, status="running", last_activity=utcnow(), last_error=None,
                                url=provider.base_url)
        elif not reachable:
            await self._set(key, status="unreachable", last_error=error)

    async def auto_sleep(self) -> list[str]:
        """Put every manageable endpoint idle for ENDPOINT_AUTO_SLEEP_SECONDS to sleep."""
        slept = []
        idle_before = utcnow() - timedelta(seconds=self.settings.endpoint_auto_sleep_seconds)
        for key in MODEL_KEYS:
            provider = self.provider(key)
            if provider is None or not provider.manageable:
                continue
            if await self.sleep(key, wait=True, idle_before=idle_before):
                slept.append(key)
        return slept

    async def close(self) -> None:
        """Stop background operations (local processes keep running unless slept)."""
        for task in list(self._tasks.values()):
            task.cancel()


def get_manager() -> EndpointManager:
    """The running runtime's endpoint manager."""
    return runtime.current().endpoints
