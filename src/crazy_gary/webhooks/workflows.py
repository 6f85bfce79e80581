"""The durable delivery of one message: attempts with backoff sleeps that survive restarts.

The workflow id names the delivery and its run (a redelivery is a new run), so starting
it twice (the dispatcher after a crash) runs it once. An attempt is a step: when a process
dies in the middle, the attempt runs again on recovery (at least once, same webhook-id).
"""

from __future__ import annotations

import logging

from dbos import DBOS, SetWorkflowID

from crazy_gary import runtime
from crazy_gary.webhooks import attempts
from crazy_gary.webhooks.sender import send

log = logging.getLogger(__name__)


def workflow_id(delivery_id: str, run: int) -> str:
    return f"webhook:{delivery_id}:{run}"


async def start(delivery_id: str, run: int) -> None:
    """Start (or find already started) the delivery's workflow for this run."""
    with SetWorkflowID(workflow_id(delivery_id, run)):
        await DBOS.start_workflow_async(deliver, delivery_id, run)


@DBOS.step(name="webhooks.retry_schedule")
async def retry_schedule() -> list[float]:
    """The delays of this delivery, fixed when it starts (recovery keeps them)."""
    return runtime.current().settings.webhook_retry_delays


@DBOS.step(name="webhooks.attempt", retries_allowed=False)
async def attempt(delivery_id: str, run: int, retry_in: float | None) -> str:
    """One signed POST, recorded; the outcome (`succeeded`, `retry`, `failed`, ...)."""
    pending = await attempts.load(delivery_id, run)
    if isinstance(pending, str):
        return pending
    settings = runtime.current().settings
    result = await send(url=pending.url, secret=pending.secret, msg_id=pending.msg_id,
                        body=pending.body, timeout_seconds=settings.webhook_timeout_seconds,
                        allow_private=settings.webhook_allow_private_networks)
    return await attempts.save(delivery_id, run, result, retry_in=retry_in)


@DBOS.workflow(name="webhooks.deliver")
async def deliver(delivery_id: str, run: int) -> str:
    delays = await retry_schedule()
    for index in range(len(delays) + 1):
        retry_in = delays[index] if index < len(delays) else None
        outcome = await attempt(delivery_id, run, retry_in)
        if outcome != "retry" or retry_in is None:
            return outcome
        await DBOS.sleep_async(retry_in)
    return "failed"
