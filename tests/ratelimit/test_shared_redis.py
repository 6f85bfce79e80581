"""Two app instances on one Redis share one limit (as several processes would)."""

from __future__ import annotations

import os
import uuid

import httpx
import pytest
import redis

from tests.support import instance_server, unique_email

REDIS_URL = os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/1"


def redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:
        return False


pytestmark = pytest.mark.skipif(not redis_up(), reason=f"Redis not reachable at {REDIS_URL}")


async def test_two_instances_share_one_budget():
    namespace = f"cg-rl-test-{uuid.uuid4().hex[:8]}"
    servers = [
        instance_server(RATE_LIMITS_ENABLED=True, RATE_LIMIT_AUTH="3/minute",
                        REDIS_URL=REDIS_URL, REDIS_NAMESPACE=namespace)
        for _ in range(2)
    ]
    try:
        a, b = (httpx.AsyncClient(base_url=s.url, timeout=30) for s in servers)
        async with a, b:
            body = {"email": unique_email(), "password": "Wr0ng-pass"}
            statuses = [(await c.post("/api/auth/login", json=body)).status_code
                        for c in (a, b, a)]
            assert statuses == [401, 401, 401]
            last = await b.post("/api/auth/login", json=body)
            assert last.status_code == 429
            assert last.json()["code"] == "RATE_LIMIT_EXCEEDED"
            assert last.headers["X-RateLimit-Remaining"] == "0"
        keys = redis.Redis.from_url(REDIS_URL).keys(f"{namespace}*")
        assert keys, "counters live in Redis under the configured namespace"
    finally:
        for s in servers:
            s.stop()
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{namespace}*"):
            client.delete(key)
