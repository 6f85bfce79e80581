"""API keys across processes: a key deleted in one process fails in another on its next
request (no cache period), and a key's requests count in its owner's rate limit."""

from __future__ import annotations

import tempfile
import uuid

import httpx
import pytest

from tests.auth.test_api_keys import KEYS, bearer, header, new_key
from tests.support import ProcessServer, instance_server, register


@pytest.fixture(scope="module")
def second_process(base_env, settings, server):
    """Another `crazy-gary serve` on the session server's database (its own data directory,
    so its own engine files and JWT key)."""
    env = {**base_env, "DATABASE_URL": settings.sqlalchemy_url,
           "CRAZY_GARY_DATA_DIR": tempfile.mkdtemp(prefix="cg-keys-"),
           "CRAZY_GARY_EXECUTOR_ID": f"keys-{uuid.uuid4().hex[:6]}"}
    srv = ProcessServer(env).start()
    yield srv
    srv.stop()


async def test_deleted_key_fails_at_once_on_another_process(client, register_user,
                                                            second_process):
    owner = await register_user()
    key = await new_key(client, owner, ["tasks:read", "tasks:write"])
    async with httpx.AsyncClient(base_url=second_process.url, timeout=30) as other:
        me = await other.get("/api/auth/me", headers=header(key))
        assert me.status_code == 200 and me.json()["user"]["id"] == owner.id
        created = await other.post("/api/tasks", headers=bearer(key),
                                   json={"title": "elsewhere", "description": "d"})
        assert created.status_code == 201, created.text
        assert (await client.delete(f"{KEYS}/{key['id']}", headers=owner.headers)
                ).status_code == 204
        resp = await other.get("/api/tasks", headers=bearer(key))
        assert resp.status_code == 401 and resp.json()["code"] == "AUTH_REQUIRED"


async def test_key_requests_count_in_the_owners_rate_limit(base_env):
    srv = instance_server(RATE_LIMITS_ENABLED="true", RATE_LIMIT_GENERAL="6/minute",
                          RATE_LIMIT_AUTH="20/minute")
    try:
        async with httpx.AsyncClient(base_url=srv.url, timeout=30) as client:
            owner = await register(client)
            key = await new_key(client, owner, ["tasks:read"])  # 1st of the budget
            first = await client.get("/api/tasks", headers=bearer(key))
            assert first.status_code == 200
            assert first.headers["X-RateLimit-Remaining"] == "4"
            for headers in (header(key), owner.headers, bearer(key), owner.headers):
                assert (await client.get("/api/tasks", headers=headers)).status_code == 200
            refused = await client.get("/api/tasks", headers=header(key))
            assert refused.status_code == 429
            assert refused.json()["code"] == "RATE_LIMIT_EXCEEDED"
            # another user's budget is untouched
            other = await register(client)
            assert (await client.get("/api/tasks", headers=other.headers)).status_code == 200
    finally:
        srv.stop()
