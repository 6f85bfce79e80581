"""The `huggingface_api` component of detailed health: endpoint reachability and errors."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from crazy_gary.config import MODEL_KEYS
from crazy_gary.endpoints.service import get_manager

BAD = ("failed", "unreachable")


async def huggingface_api_check() -> dict[str, Any]:
    manager = get_manager()
    configured = [k for k in MODEL_KEYS if manager.provider(k) is not None]
    if not configured:
        return {"status": "not_configured", "message": "no model endpoint configured"}
    started = time.monotonic()
    records = await asyncio.gather(*(manager.refresh(k, max_age=1.0) for k in configured))
    response_ms = round((time.monotonic() - started) * 1000, 1)
    statuses = {k: r.status for k, r in zip(configured, records, strict=True)}
    error_rate = manager.stats.error_rate()
    bad = [k for k, s in statuses.items() if s in BAD]
    if len(bad) == len(configured):
        status = "unhealthy"
    elif bad or error_rate >= 0.1:
        status = "degraded"
    else:
        status = "healthy"
    return {"status": status, "response_time": response_ms, "error_rate": error_rate,
            "endpoints": {k: {"status": s, "error": r.last_error}
                          for (k, s), r in zip(statuses.items(), records, strict=True)}}
