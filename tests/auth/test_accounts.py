"""Accounts over HTTP exactly as the contract shows them."""

from __future__ import annotations

import re

from tests.support import login, register, unique_email

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def assert_contract_user(user: dict, email: str, name: str) -> None:
    assert isinstance(user["id"], int)
    assert user["email"] == email
    assert user["name"] == name
    assert ISO_UTC.match(user["created_at"])
    assert ISO_UTC.match(user["last_login"])


async def test_register_returns_tokens_and_user(client):
    email = unique_email()
    resp = await client.post("/api/auth/register", json={
        "email": email, "password": "SecurePassword123", "fullName": "John Doe"})
    assert resp.status_code == 201
    body = resp.json()
    assert body["token"].count(".") == 2 and body["refresh_token"].count(".") == 2
    assert body["expires_in"] == 3600
    assert_contract_user(body["user"], email, "John Doe")
    me = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    assert me.json()["user"]["id"] == body["user"]["id"]


async def test_register_lists_every_problem(client):
    resp = await client.post("/api/auth/register",
                             json={"email": "not-an-email", "password": "short"})
    assert resp.status_code == 400
    body = resp.json()
    assert body["code"] == "VALIDATION_ERROR"
    problems = body["details"]["validation_errors"]
    assert any(p.startswith("email") for p in problems)
    assert any("at least 8" in p for p in problems)
    assert any("digit" in p for p in problems)
    assert body["timestamp"] and body["request_id"] == resp.headers["X-Request-ID"]


async def test_password_rules(client):
    cases = {"abcdefgh": "digit", "12345678": "letter", "a1" * 64 + "x": "at most 128"}
    for password, problem in cases.items():
        resp = await client.post("/api/auth/register",
                                 json={"email": unique_email(), "password": password})
        assert resp.status_code == 400, password
        assert any(problem in p for p in resp.json()["details"]["validation_errors"])
    ok = await client.post("/api/auth/register",
                           json={"email": unique_email(), "password": "a1" * 64})
    assert ok.status_code == 201


async def test_missing_fields_are_validation_errors(client):
    resp = await client.post("/api/auth/register", json={})
    assert resp.status_code == 400
    problems = resp.json()["details"]["validation_errors"]
    assert len(problems) == 2 and all("required" in p.lower() for p in problems)


async def test_duplicate_email_is_409_case_insensitively(client):
    email = unique_email()
    await register(client, email=email)
    resp = await client.post("/api/auth/register",
                             json={"email": email.upper(), "password": "Passw0rd-123"})
    assert resp.status_code == 409
    assert resp.json()["code"] == "USER_EXISTS"


async def test_login_with_any_case_and_last_login(client):
    email = unique_email()
    await register(client, email=email, name="Jane")
    resp = await client.post("/api/auth/login",
                             json={"email": email.upper(), "password": "Passw0rd-123"})
    assert resp.status_code == 200
    body = resp.json()
    assert body["expires_in"] == 3600 and body["token"] and body["refresh_token"]
    assert_contract_user(body["user"], email, "Jane")


async def test_login_failures_are_indistinguishable(client):
    email = unique_email()
    await register(client, email=email)
    wrong = await client.post("/api/auth/login", json={"email": email, "password": "Wr0ngpass"})
    unknown = await client.post("/api/auth/login",
                                json={"email": unique_email(), "password": "Wr0ngpass"})
    garbage = await client.post("/api/auth/login",
                                json={"email": "nonsense", "password": "Wr0ngpass"})
    for resp in (wrong, unknown, garbage):
        assert resp.status_code == 401
    bodies = [r.json() for r in (wrong, unknown, garbage)]
    assert {b["code"] for b in bodies} == {"INVALID_CREDENTIALS"}
    assert len({(b["error"], str(b["details"])) for b in bodies}) == 1


async def test_update_me_changes_name_only(client, user):
    resp = await client.put("/api/auth/me", headers=user.headers,
                            json={"name": "Jane Doe", "email": "ignored@example.com"})
    assert resp.status_code == 200
    assert resp.json()["user"]["name"] == "Jane Doe"
    assert resp.json()["user"]["email"] == user.email
    me = await client.get("/api/auth/me", headers=user.headers)
    assert me.json()["user"]["name"] == "Jane Doe"
    for blank in ("", "   "):
        empty = await client.put("/api/auth/me", headers=user.headers, json={"name": blank})
        assert empty.status_code == 400 and empty.json()["code"] == "VALIDATION_ERROR"


async def test_validate(client, user):
    resp = await client.get("/api/auth/validate", headers=user.headers)
    assert resp.status_code == 200
    assert resp.json() == {"valid": True,
                           "user": {"id": user.id, "email": user.email, "name": "Test User"}}
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic abc"}):
        bad = await client.get("/api/auth/validate", headers=headers)
        assert bad.status_code == 401
        assert bad.json() == {"valid": False}


async def test_change_password(client):
    account = await register(client)
    resp = await client.post("/api/auth/change-password", headers=account.headers, json={
        "current_password": account.password, "new_password": "NewSecurePassword456"})
    assert resp.status_code == 200
    body = resp.json()
    assert body["message"] == "Password changed successfully"
    # The client that changed it stays signed in with the fresh pair it was handed.
    fresh = {"Authorization": f"Bearer {body['token']}"}
    assert (await client.get("/api/auth/me", headers=fresh)).status_code == 200
    old_login = await client.post("/api/auth/login",
                                  json={"email": account.email, "password": account.password})
    assert old_login.status_code == 401
    await login(client, account.email, "NewSecurePassword456")


async def test_change_password_checks_current_and_strength(client):
    account = await register(client)
    wrong = await client.post("/api/auth/change-password", headers=account.headers, json={
        "current_password": "Not-the-0ne", "new_password": "NewSecurePassword456"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "INVALID_CREDENTIALS"
    weak = await client.post("/api/auth/change-password", headers=account.headers, json={
        "current_password": account.password, "new_password": "weak"})
    assert weak.status_code == 400 and weak.json()["code"] == "VALIDATION_ERROR"
    problems = weak.json()["details"]["validation_errors"]
    assert problems and all(p.startswith("new_password: ") for p in problems)  # the field sent
    assert (await client.get("/api/auth/me", headers=account.headers)).status_code == 200


async def test_refresh_rotates(client):
    account = await register(client)
    resp = await client.post("/api/auth/refresh",
                             headers={"Authorization": f"Bearer {account.refresh_token}"})
    assert resp.status_code == 200
    body = resp.json()
    assert body["expires_in"] == 3600
    assert body["refresh_token"] != account.refresh_token
    me = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    again = await client.post("/api/auth/refresh",
                              headers={"Authorization": f"Bearer {body['refresh_token']}"})
    assert again.status_code == 200


async def test_logout_ends_refresh_tokens(client):
    account = await register(client)
    resp = await client.post("/api/auth/logout", headers=account.headers)
    assert resp.status_code == 200
    refresh = await client.post("/api/auth/refresh",
                                headers={"Authorization": f"Bearer {account.refresh_token}"})
    assert refresh.status_code == 401 and refresh.json()["code"] == "AUTH_REQUIRED"
    assert refresh.json()["error"] == "Refresh token has been revoked"  # not called a reuse


async def test_username_derived_from_email(client, admin):
    account = await register(client, email=f"ab-{unique_email()[5:]}")
    resp = await client.get(f"/api/users/{account.id}", headers=admin.headers)
    assert resp.json()["username"].startswith("ab-")
    short = await register(client, email=f"x@{unique_email().split('@')[0]}.example.com")
    resp = await client.get(f"/api/users/{short.id}", headers=admin.headers)
    assert len(resp.json()["username"]) >= 3
