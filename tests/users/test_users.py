"""User management: admin-only lists, ownership, roles and the last admin."""

from __future__ import annotations

import asyncio
import re

import httpx

from crazy_gary.users.bootstrap import ensure_admin
from tests.support import instance_server, login, register, unique_email


def new_user_body(**extra) -> dict:
    email = unique_email("made")
    return {"username": email.split("@")[0], "email": email, **extra}


async def test_admin_lists_users_as_an_array_with_page_headers(client, admin, user):
    resp = await client.get("/api/users", headers=admin.headers, params={"limit": 1})
    assert resp.status_code == 200
    body = resp.json()
    assert isinstance(body, list) and len(body) == 1
    assert set(body[0]) >= {"id", "username", "email", "created_at"}
    total = int(resp.headers["X-Total-Count"])
    assert total >= 2
    assert resp.headers["X-Limit"] == "1" and resp.headers["X-Offset"] == "0"
    assert resp.headers["X-Has-More"] == "true"
    link = resp.headers["Link"]
    assert re.search(r'<http://[^>]+/api/users\?limit=1&offset=1>; rel="next"', link)

    last = await client.get("/api/users", headers=admin.headers,
                            params={"limit": 1, "offset": total - 1})
    assert last.headers["X-Has-More"] == "false"
    assert 'rel="next"' not in last.headers.get("Link", "")
    assert 'rel="prev"' in last.headers["Link"]


async def test_list_default_and_max_limit(client, admin):
    resp = await client.get("/api/users", headers=admin.headers)
    assert resp.headers["X-Limit"] == "50"
    for bad in ({"limit": 101}, {"limit": 0}, {"offset": -1}, {"limit": "x"}):
        r = await client.get("/api/users", headers=admin.headers, params=bad)
        assert r.status_code == 400 and r.json()["code"] == "VALIDATION_ERROR"


async def test_non_admin_cannot_list_create_or_delete(client, user, other_user):
    listed = await client.get("/api/users", headers=user.headers)
    created = await client.post("/api/users", headers=user.headers, json=new_user_body())
    deleted = await client.delete(f"/api/users/{other_user.id}", headers=user.headers)
    deleted_self = await client.delete(f"/api/users/{user.id}", headers=user.headers)
    for resp in (listed, created, deleted, deleted_self):
        assert resp.status_code == 403
        assert resp.json()["code"] == "INSUFFICIENT_PERMISSIONS"
    assert (await client.get(f"/api/users/{other_user.id}",
                             headers=other_user.headers)).status_code == 200


async def test_anonymous_is_401(client, user):
    for method, path in (("GET", "/api/users"), ("GET", f"/api/users/{user.id}"),
                         ("DELETE", f"/api/users/{user.id}")):
        resp = await client.request(method, path)
        assert resp.status_code == 401 and resp.json()["code"] == "AUTH_REQUIRED"


async def test_user_reads_and_edits_only_themself(client, user, other_user):
    mine = await client.get(f"/api/users/{user.id}", headers=user.headers)
    assert mine.status_code == 200 and mine.json()["email"] == user.email
    theirs = await client.get(f"/api/users/{other_user.id}", headers=user.headers)
    assert theirs.status_code == 404 and theirs.json()["code"] == "NOT_FOUND"
    edit = await client.put(f"/api/users/{other_user.id}", headers=user.headers,
                            json={"username": "hijacked"})
    assert edit.status_code == 404
    missing = await client.get("/api/users/999999999", headers=user.headers)
    assert missing.status_code == 404
    assert missing.json()["error"] == theirs.json()["error"]
    after = await client.get(f"/api/users/{other_user.id}", headers=other_user.headers)
    assert after.json()["username"] != "hijacked"


async def test_user_updates_own_username_and_email(client):
    account = await register(client)
    new_email = unique_email("moved")
    new_name = new_email.split("@")[0]
    resp = await client.put(f"/api/users/{account.id}", headers=account.headers,
                            json={"username": new_name, "email": new_email.upper(),
                                  "current_password": account.password})
    assert resp.status_code == 200
    body = resp.json()
    assert body["username"] == new_name and body["email"] == new_email
    await login(client, new_email, account.password)


async def test_usernames_and_emails_are_unique(client, user, other_user):
    theirs = (await client.get(f"/api/users/{other_user.id}", headers=other_user.headers)).json()
    taken = await client.put(f"/api/users/{user.id}", headers=user.headers,
                             json={"username": theirs["username"].upper()})
    assert taken.status_code == 409
    email_taken = await client.put(f"/api/users/{user.id}", headers=user.headers,
                                   json={"email": other_user.email,
                                         "current_password": user.password})
    assert email_taken.status_code == 409 and email_taken.json()["code"] == "USER_EXISTS"


async def test_user_cannot_promote_themself(client):
    account = await register(client)
    resp = await client.put(f"/api/users/{account.id}", headers=account.headers,
                            json={"role": "admin"})
    assert resp.status_code == 403 and resp.json()["code"] == "INSUFFICIENT_PERMISSIONS"
    assert (await client.get("/api/users", headers=account.headers)).status_code == 403
    pw = await client.put(f"/api/users/{account.id}", headers=account.headers,
                          json={"password": "Sneaky-passw0rd"})
    assert pw.status_code == 403
    same = await client.put(f"/api/users/{account.id}", headers=account.headers,
                            json={"role": "user", "name": "Still me"})
    assert same.status_code == 200 and same.json()["role"] == "user"


async def test_admin_creates_user_without_password_then_sets_one(client, admin):
    body = new_user_body(name="New User")
    resp = await client.post("/api/users", headers=admin.headers, json=body)
    assert resp.status_code == 201
    created = resp.json()
    assert created["username"] == body["username"] and created["email"] == body["email"]
    assert created["has_password"] is False and created["role"] == "user"
    # No password yet: every attempt fails like any wrong password.
    attempt = await client.post("/api/auth/login",
                                json={"email": body["email"], "password": "Anything-123"})
    assert attempt.status_code == 401 and attempt.json()["code"] == "INVALID_CREDENTIALS"
    set_pw = await client.put(f"/api/users/{created['id']}", headers=admin.headers,
                              json={"password": "Fresh-passw0rd"})
    assert set_pw.status_code == 200 and set_pw.json()["has_password"] is True
    await login(client, body["email"], "Fresh-passw0rd")


async def test_admin_create_validation_and_conflicts(client, admin, user):
    bad = await client.post("/api/users", headers=admin.headers,
                            json={"username": "x", "email": "nope"})
    assert bad.status_code == 400 and bad.json()["details"]["validation_errors"]
    weak = await client.post("/api/users", headers=admin.headers,
                             json=new_user_body(password="weak"))
    assert weak.status_code == 400
    dup_email = await client.post("/api/users", headers=admin.headers,
                                  json={"username": "unique-" + user.email[:8],
                                        "email": user.email})
    assert dup_email.status_code == 409
    body = new_user_body()
    assert (await client.post("/api/users", headers=admin.headers, json=body)).status_code == 201
    again = new_user_body(username=body["username"])
    dup_name = await client.post("/api/users", headers=admin.headers, json=again)
    assert dup_name.status_code == 409


async def test_admin_reads_edits_promotes_and_deletes(client, admin):
    account = await register(client)
    read = await client.get(f"/api/users/{account.id}", headers=admin.headers)
    assert read.status_code == 200
    promoted = await client.put(f"/api/users/{account.id}", headers=admin.headers,
                                json={"role": "admin"})
    assert promoted.json()["role"] == "admin"
    assert (await client.get("/api/users", headers=account.headers)).status_code == 200
    demoted = await client.put(f"/api/users/{account.id}", headers=admin.headers,
                               json={"role": "user"})
    assert demoted.json()["role"] == "user"
    # Takes effect on the very next request (no stale cached role).
    assert (await client.get("/api/users", headers=account.headers)).status_code == 403
    deleted = await client.delete(f"/api/users/{account.id}", headers=admin.headers)
    assert deleted.status_code == 204 and deleted.content == b""
    gone = await client.get(f"/api/users/{account.id}", headers=admin.headers)
    assert gone.status_code == 404
    again = await client.delete(f"/api/users/{account.id}", headers=admin.headers)
    assert again.status_code == 404


async def test_last_admin_cannot_be_deleted_or_demoted(server):
    """Against a fresh database (its own instance) so 'last' is certain."""
    srv = instance_server()
    try:
        async with httpx.AsyncClient(base_url=srv.url, timeout=30) as c:
            await ensure_admin(srv.settings, email="root@example.com", password="R00t-password")
            root = await login(c, "root@example.com", "R00t-password")
            demote = await c.put(f"/api/users/{root.id}", headers=root.headers,
                                 json={"role": "user"})
            assert demote.status_code == 409 and demote.json()["code"] == "CONFLICT"
            delete = await c.delete(f"/api/users/{root.id}", headers=root.headers)
            assert delete.status_code == 409
            # With a second admin, the first may step down.
            second = await c.post("/api/users", headers=root.headers, json={
                "username": "second", "email": "second@example.com",
                "password": "Sec0nd-password", "role": "admin"})
            assert second.status_code == 201
            sid = second.json()["id"]
            step_down = await c.put(f"/api/users/{root.id}", headers=root.headers,
                                    json={"role": "user"})
            assert step_down.status_code == 200
            other = await login(c, "second@example.com", "Sec0nd-password")
            last = await c.delete(f"/api/users/{sid}", headers=other.headers)
            assert last.status_code == 409
    finally:
        srv.stop()


async def test_a_change_made_by_another_process_is_seen_once_the_user_cache_expires():
    """The signed-in user is cached for AUTH_USER_CACHE_SECONDS; a row changed outside this
    process (no ORM event here) is read again once the entry expires."""
    from sqlalchemy import create_engine, text

    from crazy_gary.config import to_sync_url

    srv = instance_server(AUTH_USER_CACHE_SECONDS=0.5)
    engine = create_engine(to_sync_url(srv.settings.sqlalchemy_url))
    try:
        async with httpx.AsyncClient(base_url=srv.url, timeout=30) as c:
            await ensure_admin(srv.settings, email="root@example.com", password="R00t-password")
            account = await register(c)
            assert (await c.get("/api/users", headers=account.headers)).status_code == 403
            with engine.begin() as conn:  # as another process would: plain SQL
                conn.execute(text("UPDATE users SET role = 'admin', name = 'Renamed' "
                                  "WHERE id = :id"), {"id": account.id})
            cached = await c.get("/api/auth/me", headers=account.headers)
            assert cached.json()["user"]["name"] == "Test User"  # still the cached snapshot
            await asyncio.sleep(0.6)
            fresh = await c.get("/api/auth/me", headers=account.headers)
            assert fresh.status_code == 200 and fresh.json()["user"]["name"] == "Renamed"
            assert (await c.get("/api/users", headers=account.headers)).status_code == 200
            with engine.begin() as conn:
                conn.execute(text("DELETE FROM users WHERE id = :id"), {"id": account.id})
            await asyncio.sleep(0.6)
            gone = await c.get("/api/auth/me", headers=account.headers)
            assert gone.status_code == 401 and gone.json()["code"] == "AUTH_REQUIRED"
    finally:
        engine.dispose()
        srv.stop()
