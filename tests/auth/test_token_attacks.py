"""Attacks on tokens: each answers 401 in the contract's format and reveals nothing."""

from __future__ import annotations

import base64
import json
import time
import uuid

import jwt
import pytest

from tests.support import register


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def claims(user_id: int, **overrides) -> dict:
    now = int(time.time())
    base = {"sub": str(user_id), "type": "access", "ver": 0, "jti": uuid.uuid4().hex,
            "iat": now, "exp": now + 600}
    base.update(overrides)
    return base


def unsigned(payload: dict) -> str:
    def part(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(payload)}."


async def assert_auth_required(client, headers, path="/api/auth/me"):
    resp = await client.get(path, headers=headers)
    assert resp.status_code == 401, resp.text
    body = resp.json()
    assert body["code"] == "AUTH_REQUIRED"
    assert body["request_id"] == resp.headers["X-Request-ID"]
    return body


async def test_missing_and_malformed_tokens(client):
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Bearer a.b.c"},
                    {"Authorization": "Token abc"}, {"Authorization": "Bearer " + "x" * 5000}):
        await assert_auth_required(client, headers)


async def test_forged_signature(client, user):
    forged = jwt.encode(claims(user.id), "another-secret-that-is-long-enough-32b",
                        algorithm="HS256")
    await assert_auth_required(client, bearer(forged))
    # A valid token with its payload swapped for another user's keeps the old signature.
    header, _, signature = user.token.split(".")
    _, payload, _ = unsigned(claims(user.id + 1)).split(".")
    await assert_auth_required(client, bearer(f"{header}.{payload}.{signature}"))


async def test_alg_none(client, user):
    await assert_auth_required(client, bearer(unsigned(claims(user.id))))


async def test_other_algorithms_refused(client, user, settings):
    token = jwt.encode(claims(user.id), settings.jwt_secret_key, algorithm="HS512")
    await assert_auth_required(client, bearer(token))


async def test_expired_access_token(client, user, settings):
    past = int(time.time()) - 10
    token = jwt.encode(claims(user.id, iat=past - 3600, exp=past), settings.jwt_secret_key,
                       algorithm="HS256")
    resp = await client.get("/api/auth/me", headers=bearer(token))
    assert resp.status_code == 401
    assert resp.json()["code"] == "TOKEN_EXPIRED"
    validate = await client.get("/api/auth/validate", headers=bearer(token))
    assert validate.status_code == 401 and validate.json() == {"valid": False}


async def test_expired_refresh_token(client, user, settings):
    past = int(time.time()) - 10
    token = jwt.encode(claims(user.id, type="refresh", fam="x", exp=past),
                       settings.jwt_secret_key, algorithm="HS256")
    resp = await client.post("/api/auth/refresh", headers=bearer(token))
    assert resp.status_code == 401 and resp.json()["code"] == "TOKEN_EXPIRED"


async def test_refresh_token_is_not_an_access_token(client, user):
    await assert_auth_required(client, bearer(user.refresh_token))


async def test_access_token_is_not_a_refresh_token(client, user):
    resp = await client.post("/api/auth/refresh", headers=bearer(user.token))
    assert resp.status_code == 401 and resp.json()["code"] == "AUTH_REQUIRED"


async def test_well_signed_token_for_unknown_user_or_without_type(client, settings, user):
    key = settings.jwt_secret_key
    await assert_auth_required(client, bearer(jwt.encode(claims(10**9), key, algorithm="HS256")))
    no_type = claims(user.id)
    del no_type["type"]
    await assert_auth_required(client, bearer(jwt.encode(no_type, key, algorithm="HS256")))
    await assert_auth_required(
        client, bearer(jwt.encode(claims(user.id, sub="admin"), key, algorithm="HS256")))


async def test_refresh_reuse_revokes_the_family(client):
    account = await register(client)
    first = await client.post("/api/auth/refresh", headers=bearer(account.refresh_token))
    assert first.status_code == 200
    second_refresh = first.json()["refresh_token"]
    # The stolen (already spent) token comes back: refused, and the whole family ends.
    reuse = await client.post("/api/auth/refresh", headers=bearer(account.refresh_token))
    assert reuse.status_code == 401 and reuse.json()["code"] == "AUTH_REQUIRED"
    after = await client.post("/api/auth/refresh", headers=bearer(second_refresh))
    assert after.status_code == 401


async def test_refresh_reuse_leaves_other_sign_ins_alone(client):
    account = await register(client)
    other = await client.post("/api/auth/login",
                              json={"email": account.email, "password": account.password})
    other_refresh = other.json()["refresh_token"]
    await client.post("/api/auth/refresh", headers=bearer(account.refresh_token))
    await client.post("/api/auth/refresh", headers=bearer(account.refresh_token))
    still = await client.post("/api/auth/refresh", headers=bearer(other_refresh))
    assert still.status_code == 200


async def test_tokens_after_password_change(client):
    account = await register(client)
    extra = await client.post("/api/auth/login",
                              json={"email": account.email, "password": account.password})
    resp = await client.post("/api/auth/change-password", headers=account.headers, json={
        "current_password": account.password, "new_password": "Changed-passw0rd"})
    assert resp.status_code == 200
    for token in (account.token, extra.json()["token"]):
        await assert_auth_required(client, bearer(token))
        validate = await client.get("/api/auth/validate", headers=bearer(token))
        assert validate.json() == {"valid": False}
    for refresh in (account.refresh_token, extra.json()["refresh_token"]):
        spent = await client.post("/api/auth/refresh", headers=bearer(refresh))
        assert spent.status_code == 401


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_deleted_users_token_stops_working(client, admin, method):
    account = await register(client)
    deleted = await client.delete(f"/api/users/{account.id}", headers=admin.headers)
    assert deleted.status_code == 204
    resp = await client.request(method, "/api/auth/me", headers=account.headers,
                                json={"name": "x"})
    assert resp.status_code in (401, 405)
    if method != "DELETE":
        assert resp.json()["code"] == "AUTH_REQUIRED"
    refresh = await client.post("/api/auth/refresh", headers=bearer(account.refresh_token))
    assert refresh.status_code == 401
