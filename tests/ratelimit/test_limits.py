"""Rate limits on their own app instances with small configured budgets."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.support import ProcessServer, instance_server, register, unique_email

LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
                 "X-RateLimit-Window")


@pytest.fixture(scope="module")
def limited():
    """One instance: 4 credential requests and 3 general requests a minute."""
    srv = instance_server(RATE_LIMITS_ENABLED=True, RATE_LIMIT_AUTH="4/minute",
                          RATE_LIMIT_GENERAL="3/minute")
    yield srv
    srv.stop()


def fresh_instance(**limits) -> ProcessServer:
    return instance_server(RATE_LIMITS_ENABLED=True, **limits)


async def bad_login(c: httpx.AsyncClient) -> httpx.Response:
    return await c.post("/api/auth/login", json={"email": unique_email(), "password": "x1"})


def assert_limited(resp: httpx.Response) -> dict:
    assert resp.status_code == 429, resp.text
    body = resp.json()
    assert body["code"] == "RATE_LIMIT_EXCEEDED"
    assert body["error"] == "Rate limit exceeded"
    assert isinstance(body["retry_after"], int) and 0 < body["retry_after"] <= 60
    assert int(resp.headers["Retry-After"]) == body["retry_after"]
    assert body["request_id"] == resp.headers["X-Request-ID"] and body["timestamp"]
    assert resp.headers["X-RateLimit-Remaining"] == "0"
    return body


async def test_per_user_general_budget_with_headers(limited):
    async with httpx.AsyncClient(base_url=limited.url, timeout=30) as c:
        alice, bob = await register(c), await register(c)
        seen = []
        for _ in range(3):
            resp = await c.get("/api/auth/me", headers=alice.headers)
            assert resp.status_code == 200
            assert all(h in resp.headers for h in LIMIT_HEADERS)
            assert resp.headers["X-RateLimit-Limit"] == "3"
            assert resp.headers["X-RateLimit-Window"] == "60"
            assert int(resp.headers["X-RateLimit-Reset"]) >= int(time.time())
            seen.append(int(resp.headers["X-RateLimit-Remaining"]))
        assert seen == [2, 1, 0]
        assert_limited(await c.get("/api/auth/me", headers=alice.headers))
        # The budget is per user: Bob, from the same address, still has his.
        assert (await c.get("/api/auth/me", headers=bob.headers)).status_code == 200
        # Health is never limited and carries no limit headers.
        health = await c.get("/health")
        assert health.status_code == 200 and "X-RateLimit-Limit" not in health.headers


async def test_per_ip_before_sign_in_and_groups_are_separate():
    srv = fresh_instance(RATE_LIMIT_AUTH="3/minute", RATE_LIMIT_GENERAL="100/minute")
    try:
        async with httpx.AsyncClient(base_url=srv.url, timeout=30) as c:
            for _ in range(3):
                resp = await bad_login(c)
                assert resp.status_code == 401 and resp.headers["X-RateLimit-Limit"] == "3"
            assert_limited(await bad_login(c))
            # register and refresh share the credential budget
            assert_limited(await c.post("/api/auth/register",
                                        json={"email": unique_email(), "password": "Passw0rd1"}))
            assert_limited(await c.post("/api/auth/refresh",
                                        headers={"Authorization": "Bearer x"}))
            # the general group is counted separately
            general = await c.get("/api/auth/validate")
            assert general.status_code == 401 and general.headers["X-RateLimit-Limit"] == "100"
    finally:
        srv.stop()


async def test_disabled_limits_send_no_headers(client):
    resp = await client.post("/api/auth/login", json={"email": unique_email(), "password": "x"})
    assert "X-RateLimit-Limit" not in resp.headers
