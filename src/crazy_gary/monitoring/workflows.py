"""Periodic monitoring as a DBOS scheduled workflow: each tick has a deterministic
workflow id, so across any number of processes it runs exactly once."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from dbos import DBOS

from crazy_gary import runtime
from crazy_gary.monitoring import evaluation, log_handler

log = logging.getLogger(__name__)

SCHEDULE = "crazy-gary-monitoring"


@DBOS.step()
async def evaluate_alerts_step() -> dict[str, Any]:
    return await evaluation.evaluate(runtime.current().settings)


@DBOS.step()
async def retention_step() -> int:
    return await evaluation.retention(runtime.current().settings)


@DBOS.workflow()
async def monitoring_tick(scheduled_at: datetime, context: Any) -> None:
    """Evaluate the alert rules; once a minute also apply log retention."""
    await evaluate_alerts_step()
    if scheduled_at.second < runtime.current().settings.alert_evaluation_seconds:
        await retention_step()


async def register_schedule() -> None:
    # the engine set up its own logger at launch
    log_handler.attach_to_isolated_loggers(runtime.current().telemetry.log_handler)
    every = max(1, min(59, runtime.current().settings.alert_evaluation_seconds))
    await DBOS.apply_schedules_async([{
        "schedule_name": SCHEDULE, "workflow_fn": monitoring_tick,
        "schedule": f"*/{every} * * * * *",
    }])
