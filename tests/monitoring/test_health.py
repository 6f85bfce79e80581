"""Component health: real checks, timed; a stopped Redis is reported, not fatal."""

from __future__ import annotations

import secrets
import tempfile
import uuid

import httpx

from tests.conftest import TEST_REDIS_URL
from tests.realtime.helpers import ThrowawayRedis
from tests.support import ProcessServer, register


async def test_health_requires_sign_in(client):
    resp = await client.get("/api/monitoring/health/detailed")
    assert resp.status_code == 401


async def test_basic_health(client, user):
    resp = await client.get("/api/monitoring/health", headers=user.headers)
    assert resp.status_code == 200
    body = resp.json()
    assert body["service"] == "crazy-gary"
    assert body["status"] in ("healthy", "degraded")
    assert body["timestamp"].endswith("Z")


async def test_detailed_health_reports_every_component(client, user):
    resp = await client.get("/api/monitoring/health/detailed", headers=user.headers)
    assert resp.status_code == 200
    body = resp.json()
    assert body["overall"]["service"] == "crazy-gary"
    components = body["components"]
    for name in ("database", "redis", "huggingface_api", "mcp", "workers"):
        assert name in components, name
        assert "status" in components[name]
        assert "last_check" in components[name]
        assert "response_time" in components[name]
    assert components["database"]["status"] == "healthy"
    assert components["database"]["response_time"] >= 0
    assert components["redis"]["status"] == ("healthy" if TEST_REDIS_URL else "not_configured")
    assert components["workers"]["status"] == "healthy"
    assert components["workers"]["engine_running_here"] is True


async def test_registered_checks_are_rendered(server, client, user):
    from crazy_gary import runtime

    checks = runtime.current().health_checks

    name = f"test_component_{uuid.uuid4().hex[:6]}"

    async def failing():
        raise ConnectionError("refused")

    checks[name] = failing
    try:
        resp = await client.get("/api/monitoring/health/detailed", headers=user.headers)
        component = resp.json()["components"][name]
        assert component["status"] == "unhealthy"
        assert "refused" in component["error"]
        assert "Traceback" not in component["error"]
        assert resp.json()["overall"]["status"] == "degraded"
    finally:
        checks.pop(name, None)


async def test_stopped_redis_is_unhealthy_without_failing_the_request(base_env):
    redis = ThrowawayRedis().start()
    env = {**base_env, "REDIS_URL": redis.url, "JWT_SECRET_KEY": secrets.token_urlsafe(48),
           "REDIS_NAMESPACE": f"stop-{uuid.uuid4().hex[:8]}",
           "CRAZY_GARY_EXECUTOR_ID": f"redisstop-{uuid.uuid4().hex[:6]}"}
    if "DATABASE_URL" not in env:
        env["CRAZY_GARY_DATA_DIR"] = tempfile.mkdtemp(prefix="cg-redisstop-")
    srv = ProcessServer(env)
    try:
        srv.start()
        async with httpx.AsyncClient(base_url=srv.url, timeout=30) as client:
            user = await register(client)
            resp = await client.get("/api/monitoring/health/detailed", headers=user.headers)
            assert resp.json()["components"]["redis"]["status"] == "healthy"
            redis.kill()
            resp = await client.get("/api/monitoring/health/detailed", headers=user.headers)
            assert resp.status_code == 200
            body = resp.json()
            assert body["components"]["redis"]["status"] == "unhealthy"
            assert body["components"]["database"]["status"] == "healthy"
            assert body["overall"]["status"] == "degraded"
            # Publishing still works: the event is in the log even though Redis is gone.
            resp = await client.post("/api/tasks", headers=user.headers,
                                     json={"title": "redis went away", "description": "d"})
            assert resp.status_code == 201
    finally:
        redis.kill()
        srv.stop()
