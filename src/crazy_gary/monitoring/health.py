"""Component health: our own checks (database, redis, workers) plus every registered one.

Each check runs with a timeout and is timed; a failing or hanging component is reported
as unhealthy, never as a failed request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import text

from crazy_gary import runtime
from crazy_gary.config import Settings
from crazy_gary.db import get_database
from crazy_gary.kit.clock import iso, utcnow
from crazy_gary.monitoring.cluster import ALIVE, DRAINING, cluster_view

CHECK_TIMEOUT = 3.0
EXPECTED = ("huggingface_api", "mcp")  # contributed by other domains; shown even when absent


async def check_database() -> dict[str, Any]:
    async with get_database().engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
    return {"status": "healthy"}


def redis_check(settings: Settings) -> Callable[[], Awaitable[dict[str, Any]]]:
    async def check() -> dict[str, Any]:
        if not settings.redis_url:
            return {"status": "not_configured"}
        import redis.asyncio as aioredis  # deferred: loaded only when Redis is configured

        client = aioredis.Redis.from_url(settings.redis_url, socket_connect_timeout=2,
                                         socket_timeout=2)
        try:
            await client.ping()
        finally:
            await client.aclose()
        return {"status": "healthy"}

    return check


async def check_workers() -> dict[str, Any]:
    """The cluster's processes by state (alive, draining, gone), and whether this one runs
    the engine; the full list is `GET /api/monitoring/cluster` (admins)."""
    current = runtime.current()
    engine_here = current.durable.launched
    processes = await cluster_view(current.database,
                                   dead_after=current.settings.executor_dead_after_seconds,
                                   engine_running=engine_here)
    members = [p for p in processes if p["state"] in (ALIVE, DRAINING)]
    return {
        "status": "unhealthy" if not members and not engine_here else "healthy",
        "active_processes": len(members),
        "executors": sorted(p["executor_id"] for p in members),
        "states": {state: sum(1 for p in processes if p["state"] == state)
                   for state in ("alive", "draining", "gone")},
        "engine_running_here": engine_here,
    }


async def _timed(name: str, check: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        result = await asyncio.wait_for(check(), CHECK_TIMEOUT)
        result = dict(result or {})
        result.setdefault("status", "healthy")
    except TimeoutError:
        result = {"status": "unhealthy", "error": f"no answer within {CHECK_TIMEOUT:g}s"}
    except Exception as exc:  # the component is down; the report still succeeds
        result = {"status": "unhealthy", "error": f"{type(exc).__name__}: {exc}"[:300]}
    result["last_check"] = iso(utcnow())
    result["response_time"] = round((time.perf_counter() - started) * 1000, 1)
    return result


async def run_checks(settings: Settings) -> dict[str, dict[str, Any]]:
    """Every component's status, checked concurrently."""
    checks = {"database": check_database, "redis": redis_check(settings),
              "workers": check_workers}
    checks.update(runtime.current().health_checks)
    names = list(checks)
    results = await asyncio.gather(*(_timed(n, checks[n]) for n in names))
    components = dict(zip(names, results, strict=True))
    for name in EXPECTED:
        components.setdefault(name, {"status": "not_configured", "last_check": iso(utcnow()),
                                     "response_time": 0.0})
    return components


def overall_status(components: dict[str, dict[str, Any]]) -> str:
    """unhealthy if the database is down; degraded if any other component is not well."""
    if components.get("database", {}).get("status") != "healthy":
        return "unhealthy"
    bad = [c for c in components.values() if c.get("status") in ("unhealthy", "degraded")]
    return "degraded" if bad else "healthy"
