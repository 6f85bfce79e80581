"""Sign-in rate limits cannot be side-stepped (issue 13): not by a forged X-Forwarded-For,
not by attaching a token of a self-made account, not by spreading password guesses for one
email over many addresses. Each test runs its own server with small budgets."""

from __future__ import annotations

import tempfile
from pathlib import Path

import httpx
import pytest

from tests.support import ProcessServer, instance_server, unique_email

LIMIT = "3/minute"


def serve(**env: str) -> ProcessServer:
    """`crazy-gary serve` on a fresh data dir with a credential budget of 3 a minute."""
    data_dir = Path(tempfile.mkdtemp(prefix="cg-limits-"))
    return ProcessServer({
        "CRAZY_GARY_DATA_DIR": str(data_dir), "DATABASE_URL": "", "REDIS_URL": "",
        "JWT_SECRET_KEY": "", "CRAZY_GARY_EXECUTOR_ID": f"limits-{data_dir.name}",
        "RATE_LIMITS_ENABLED": "true", "RATE_LIMIT_AUTH": LIMIT, **env}).start()


@pytest.fixture
def api_instance():
    srv = instance_server(RATE_LIMITS_ENABLED=True, RATE_LIMIT_AUTH=LIMIT)
    yield srv
    srv.stop()


def from_address(base_url: str, address: str) -> httpx.AsyncClient:
    """A client whose connections come from `address` (any 127.x.y.z is local on Linux)."""
    return httpx.AsyncClient(base_url=base_url, timeout=30,
                             transport=httpx.AsyncHTTPTransport(local_address=address))


def bad_login(email: str | None = None) -> dict:
    return {"email": email or unique_email(), "password": "Wrong-pass-1"}


async def test_rotating_x_forwarded_for_gives_no_fresh_budget():
    srv = serve()  # the default: no proxy is trusted
    try:
        async with httpx.AsyncClient(base_url=srv.url, timeout=30) as c:
            for n in range(3):
                resp = await c.post("/api/auth/login", json=bad_login(),
                                    headers={"X-Forwarded-For": f"203.0.113.{n}"})
                assert resp.status_code == 401, resp.text
            forged = await c.post("/api/auth/login", json=bad_login(),
                                  headers={"X-Forwarded-For": "198.51.100.77"})
            assert forged.status_code == 429, forged.text
    finally:
        srv.stop()


async def test_forwarded_for_counts_from_a_listed_proxy():
    """The operator's own proxy (FORWARDED_ALLOW_IPS) reports each client's address."""
    srv = serve(TRUSTED_PROXIES="127.0.0.1")  # the alias of FORWARDED_ALLOW_IPS
    try:
        async with httpx.AsyncClient(base_url=srv.url, timeout=30) as c:
            for n in range(5):
                resp = await c.post("/api/auth/login", json=bad_login(),
                                    headers={"X-Forwarded-For": f"203.0.113.{n}"})
                assert resp.status_code == 401, resp.text
    finally:
        srv.stop()


async def test_a_fresh_accounts_token_gives_no_fresh_budget(api_instance):
    async with httpx.AsyncClient(base_url=api_instance.url, timeout=30) as c:
        made = await c.post("/api/auth/register",
                            json={"email": unique_email(), "password": "Passw0rd-123"})
        assert made.status_code == 201, made.text
        own = {"Authorization": f"Bearer {made.json()['token']}"}
        for _ in range(2):
            resp = await c.post("/api/auth/login", json=bad_login(), headers=own)
            assert resp.status_code == 401, resp.text
        for path, body in (("/api/auth/login", bad_login()),
                           ("/api/auth/register", {"email": unique_email(),
                                                   "password": "Passw0rd-123"})):
            resp = await c.post(path, json=body, headers=own)
            assert resp.status_code == 429, (path, resp.text)
        # Signed-in routes keep the per-user budget.
        assert (await c.get("/api/auth/me", headers=own)).status_code == 200


async def test_guesses_at_one_email_from_changing_addresses_are_limited(api_instance):
    victim = unique_email("victim")
    async with from_address(api_instance.url, "127.0.0.10") as c:
        made = await c.post("/api/auth/register", json={"email": victim,
                                                        "password": "Passw0rd-123"})
        assert made.status_code == 201, made.text
    spellings = [victim, victim.upper(), f"  {victim}"]
    for n, spelling in enumerate(spellings, start=11):
        async with from_address(api_instance.url, f"127.0.0.{n}") as c:
            resp = await c.post("/api/auth/login", json=bad_login(spelling))
            assert resp.status_code == 401, resp.text
    async with from_address(api_instance.url, "127.0.0.20") as c:
        limited = await c.post("/api/auth/login", json=bad_login(victim))
        assert limited.status_code == 429, limited.text
        assert limited.json()["code"] == "RATE_LIMIT_EXCEEDED"
        # The address itself still has its budget: another account is not locked with it.
        other = await c.post("/api/auth/login", json=bad_login())
        assert other.status_code == 401, other.text


async def test_email_change_password_checks_share_the_credential_budget(api_instance):
    """`current_password` on PUT /api/users/{self} is a password check: it must not be a
    way around change-password's budget (the general budget is 100 times larger)."""
    async with httpx.AsyncClient(base_url=api_instance.url, timeout=30) as c:
        made = await c.post("/api/auth/register",
                            json={"email": unique_email(), "password": "Passw0rd-123"})
        assert made.status_code == 201, made.text
        me, headers = made.json()["user"], {"Authorization": f"Bearer {made.json()['token']}"}
        guess = {"email": unique_email("moved"), "current_password": "Wrong-pass-1"}
        for _ in range(3):
            resp = await c.put(f"/api/users/{me['id']}", json=guess, headers=headers)
            assert resp.status_code == 401, resp.text
        limited = await c.put(f"/api/users/{me['id']}", json=guess, headers=headers)
        assert limited.status_code == 429, limited.text
        # Edits that check no password stay in the general budget.
        renamed = await c.put(f"/api/users/{me['id']}", json={"name": "Still me"},
                              headers=headers)
        assert renamed.status_code == 200, renamed.text
