"""One evaluation round: read the system, apply the alert rules, publish what changed."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import psutil

from crazy_gary import runtime
from crazy_gary.config import Settings
from crazy_gary.db import session_scope
from crazy_gary.kit.clock import iso, utcnow
from crazy_gary.monitoring import alerts as alert_service
from crazy_gary.monitoring import service
from crazy_gary.monitoring.health import overall_status, run_checks
from crazy_gary.monitoring.models import Alert
from crazy_gary.monitoring.rules import Readings, Verdict, evaluate_rules
from crazy_gary.realtime import publish, record
from crazy_gary.realtime import service as events

log = logging.getLogger(__name__)

CPU_SUSTAIN_SECONDS = 120
CPU_MIN_SAMPLES = 3


async def gather_readings(settings: Settings) -> Readings:
    cpu, samples = runtime.current().telemetry.recorder.cpu_average(CPU_SUSTAIN_SECONDS)
    async with session_scope() as session:
        total, errors, p95 = await service.window_stats(session, minutes=5)
    return Readings(
        cpu_average=cpu if samples >= CPU_MIN_SAMPLES else None,
        memory_percent=psutil.virtual_memory().percent,
        disk_percent=psutil.disk_usage(str(settings.resolved_data_dir)).percent,
        requests_5m=total, errors_5m=errors, p95_ms_5m=p95,
        components=await run_checks(settings),
    )


def alert_payload(alert: Alert) -> dict[str, Any]:
    return {"id": alert.id, "type": alert.type, "severity": alert.severity,
            "message": alert.message, "timestamp": iso(alert.created_at),
            "component": alert.component, "acknowledged": alert.acknowledged,
            "status": alert.status}


async def apply_and_publish(verdicts: list[Verdict]) -> tuple[list[str], list[str]]:
    """Store the verdicts' effect with a `system_alert` per new alert and an `alert_resolved`
    per cleared one, in one transaction (fanned out once it commits)."""
    async with session_scope() as session:
        raised, resolved = await alert_service.apply_verdicts(session, verdicts)
        raised_payloads = [alert_payload(a) for a in raised]
        resolved_payloads = [alert_payload(a) for a in resolved]
        for payload in raised_payloads:
            record(session, "system_alert", payload)
        for payload in resolved_payloads:
            record(session, "alert_resolved", payload)
    return [p["id"] for p in raised_payloads], [p["id"] for p in resolved_payloads]


async def publish_health_change(components: dict[str, dict[str, Any]]) -> None:
    """Announce `health_status` when the overall status or a component's status changed."""
    summary = {name: c.get("status") for name, c in components.items()}
    status = overall_status(components)
    async with session_scope() as session:
        last = await events.latest_event(session, event="health_status")
    if last and last.data.get("status") == status and last.data.get("components") == summary:
        return
    await publish("health_status", {"status": status, "components": summary,
                                    "timestamp": iso(utcnow())})


async def evaluate(settings: Settings) -> dict[str, Any]:
    readings = await gather_readings(settings)
    verdicts = evaluate_rules(settings, readings)
    raised, resolved = await apply_and_publish(verdicts)
    await publish_health_change(readings.components or {})
    return {"raised": raised, "resolved": resolved, "rules": len(verdicts)}


async def retention(settings: Settings) -> int:
    horizon = utcnow() - timedelta(days=settings.monitoring_retention_days)
    async with session_scope() as session:
        removed = await service.prune_logs(session, older_than=horizon,
                                           max_rows=settings.monitoring_max_log_rows)
        events_horizon = utcnow() - timedelta(days=settings.event_retention_days)
        removed += await events.prune(session, older_than=events_horizon)
    return removed
