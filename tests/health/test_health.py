"""Health probes exactly as the contract shows them."""

from __future__ import annotations


async def test_health_reports_service_identity(client):
    resp = await client.get("/health")
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "healthy"
    assert body["service"] == "crazy-gary-api"
    assert body["version"] == "1.0.0"
    assert isinstance(body["timestamp"], float)
    assert resp.headers["X-Request-ID"]


async def test_ready_when_database_answers_and_credentials_set(client):
    resp = await client.get("/health/ready")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ready"}


async def test_live(client):
    resp = await client.get("/health/live")
    assert resp.json() == {"status": "alive"}
