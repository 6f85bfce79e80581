"""API keys over HTTP: create, use (Bearer and X-API-Key), scopes, deletion, expiry, streams."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
import socketio
from sqlalchemy import update

from tests.realtime.helpers import SSEReader, publish_on
from tests.support import AuthedUser

KEYS = "/api/auth/api-keys"
STREAM = "/api/observability/events/stream"
USER_SCOPES = ["tasks:read", "tasks:write", "chat", "tools:read", "tools:execute",
               "files:read", "files:write", "endpoints:read", "endpoints:manage",
               "monitoring:read", "heavy", "schedules", "webhooks"]


async def new_key(client, owner: AuthedUser, scopes: list[str], **extra) -> dict:
    resp = await client.post(KEYS, headers=owner.headers,
                             json={"name": f"ci {uuid.uuid4().hex[:6]}", "scopes": scopes,
                                   **extra})
    assert resp.status_code == 201, resp.text
    return resp.json()


def bearer(key: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {key['key']}"}


def header(key: dict) -> dict[str, str]:
    return {"X-API-Key": key["key"]}


def assert_insufficient_scope(resp, scope: str) -> None:
    assert resp.status_code == 403, resp.text
    error = resp.json()
    assert error["code"] == "INSUFFICIENT_SCOPE"
    assert scope in error["error"]
    assert error["details"]["required_scope"] == scope


async def test_create_shows_the_secret_once_and_lists_never_do(client, register_user):
    owner = await register_user()
    key = await new_key(client, owner, ["tasks:read", "chat", "tasks:read"],
                        expires_in_days=30)
    assert set(key) == {"id", "name", "key", "prefix", "scopes", "created_at", "expires_at",
                        "last_used_at"}
    assert key["key"].startswith("cg_") and len(key["key"]) >= 3 + 43  # 32 random bytes
    assert key["key"].startswith(key["prefix"]) and key["prefix"] != key["key"]
    assert key["scopes"] == ["tasks:read", "chat"]
    assert key["expires_at"].endswith("Z") and key["last_used_at"] is None
    listed = await client.get(KEYS, headers=owner.headers)
    assert listed.status_code == 200
    assert [k["id"] for k in listed.json()] == [key["id"]]
    assert "key" not in listed.json()[0]
    assert key["key"] not in listed.text
    second = await new_key(client, owner, ["tasks:read"])
    assert second["key"] != key["key"] and second["expires_at"] is None


async def test_key_signs_in_as_bearer_and_as_x_api_key(client, register_user):
    owner = await register_user()
    key = await new_key(client, owner, ["tasks:read", "tasks:write"])
    for headers in (bearer(key), header(key)):
        me = await client.get("/api/auth/me", headers=headers)
        assert me.status_code == 200, me.text
        assert me.json()["user"]["id"] == owner.id
    created = await client.post("/api/tasks", headers=header(key),
                                json={"title": "from CI", "description": "nightly"})
    assert created.status_code == 201, created.text
    listed = await client.get("/api/tasks", headers=bearer(key))
    assert created.json()["task_id"] in [t["id"] for t in listed.json()]
    valid = await client.get("/api/auth/validate", headers=bearer(key))
    assert valid.status_code == 200 and valid.json()["user"]["id"] == owner.id
    # X-API-Key takes keys only; a JWT there signs nobody in
    resp = await client.get("/api/auth/me", headers={"X-API-Key": owner.token})
    assert resp.status_code == 401


async def test_calls_outside_the_scopes_are_refused_naming_the_scope(client, register_user):
    owner = await register_user()
    key = await new_key(client, owner, ["tasks:read"])
    assert_insufficient_scope(
        await client.post("/api/tasks", headers=bearer(key),
                          json={"title": "t", "description": "d"}), "tasks:write")
    assert_insufficient_scope(await client.get("/api/mcp/tools", headers=header(key)),
                              "tools:read")
    assert_insufficient_scope(await client.post("/api/chat", headers=header(key),
                                                json={"message": "hi"}), "chat")
    assert_insufficient_scope(await client.get("/api/workspace/files", headers=bearer(key)),
                              "files:read")
    assert (await client.get("/api/tasks", headers=bearer(key))).status_code == 200
    # the person's own token is unaffected: every scope
    assert (await client.get("/api/mcp/tools", headers=owner.headers)).status_code == 200


async def test_admin_scope_only_for_admins_and_only_what_they_may_do(client, register_user,
                                                                      admin):
    owner = await register_user()
    resp = await client.post(KEYS, headers=owner.headers,
                             json={"name": "sneaky", "scopes": ["tasks:read", "admin"]})
    assert resp.status_code == 403 and resp.json()["code"] == "INSUFFICIENT_PERMISSIONS"
    admin_key = await new_key(client, admin, ["admin"])
    users = await client.get("/api/users", headers=bearer(admin_key))
    assert users.status_code == 200
    assert (await client.get(f"/api/users/{owner.id}", headers=bearer(admin_key))
            ).status_code == 200
    # an administrator's key without `admin` is not an administrator
    plain = await new_key(client, admin, ["tasks:read", "endpoints:manage"])
    assert_insufficient_scope(await client.get("/api/users", headers=bearer(plain)), "admin")
    assert_insufficient_scope(await client.post("/api/endpoints/sleep", headers=bearer(plain)),
                              "admin")
    assert (await client.get(f"/api/users/{owner.id}", headers=bearer(plain))
            ).status_code == 404


@pytest.mark.parametrize("method,path,body", [
    ("POST", KEYS, {"name": "child", "scopes": ["tasks:read"]}),
    ("GET", KEYS, None),
    ("POST", "/api/auth/change-password",
     {"current_password": "Passw0rd-123", "new_password": "N3w-password!"}),
    ("POST", "/api/auth/logout", None),
    ("PUT", "/api/auth/me", {"name": "renamed"}),
])
async def test_keys_cannot_manage_keys_or_the_account(client, register_user, method, path,
                                                      body):
    owner = await register_user()
    key = await new_key(client, owner, USER_SCOPES)
    resp = await client.request(method, path, headers=bearer(key), json=body)
    assert resp.status_code == 403, resp.text
    assert resp.json()["code"] == "INSUFFICIENT_PERMISSIONS"
    # nothing happened: the password and the session still work
    assert (await client.get("/api/auth/me", headers=owner.headers)).status_code == 200
    assert len((await client.get(KEYS, headers=owner.headers)).json()) == 1


async def test_a_key_is_not_a_refresh_token(client, register_user):
    owner = await register_user()
    key = await new_key(client, owner, USER_SCOPES)
    resp = await client.post("/api/auth/refresh", headers=bearer(key))
    assert resp.status_code == 401


@pytest.mark.parametrize("body", [
    {"name": "x", "scopes": ["tasks:read", "tasks:everything"]},
    {"name": "x", "scopes": []},
    {"name": " ", "scopes": ["tasks:read"]},
    {"name": "x", "scopes": ["tasks:read"], "expires_in_days": 0},
    {"name": "x", "scopes": "tasks:read"},
])
async def test_bad_requests_are_400(client, user, body):
    resp = await client.post(KEYS, headers=user.headers, json=body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["code"] == "VALIDATION_ERROR"


async def test_unknown_scope_is_named(client, user):
    resp = await client.post(KEYS, headers=user.headers,
                             json={"name": "x", "scopes": ["tasks:everything"]})
    assert "tasks:everything" in resp.json()["error"]


async def test_unknown_key_is_401(client):
    resp = await client.get("/api/auth/me", headers={"X-API-Key": "cg_" + "A" * 43})
    assert resp.status_code == 401 and resp.json()["code"] == "AUTH_REQUIRED"


async def test_another_users_key_is_404_and_delete_ends_the_key_at_once(client, register_user):
    owner, stranger = await register_user(), await register_user()
    key = await new_key(client, owner, ["tasks:read"])
    resp = await client.delete(f"{KEYS}/{key['id']}", headers=stranger.headers)
    assert resp.status_code == 404 and resp.json()["code"] == "NOT_FOUND"
    assert (await client.get(KEYS, headers=stranger.headers)).json() == []
    assert (await client.get("/api/tasks", headers=bearer(key))).status_code == 200
    resp = await client.delete(f"{KEYS}/{key['id']}", headers=owner.headers)
    assert resp.status_code == 204
    resp = await client.get("/api/tasks", headers=bearer(key))
    assert resp.status_code == 401 and resp.json()["code"] == "AUTH_REQUIRED"
    assert (await client.delete(f"{KEYS}/{key['id']}", headers=owner.headers)
            ).status_code == 404


async def _set_expiry(server, key_id: str, delta: timedelta) -> None:
    from crazy_gary.auth.models import ApiKey
    from crazy_gary.db import session_scope
    from crazy_gary.kit.clock import utcnow

    async def expire() -> None:
        async with session_scope() as session:
            await session.execute(update(ApiKey).where(ApiKey.id == key_id)
                                  .values(expires_at=utcnow() + delta))

    await asyncio.to_thread(server.run_coro, expire())


async def test_expired_key_is_refused(server, client, register_user):
    owner = await register_user()
    key = await new_key(client, owner, ["tasks:read"], expires_in_days=1)
    assert (await client.get("/api/tasks", headers=bearer(key))).status_code == 200
    await _set_expiry(server, key["id"], -timedelta(seconds=1))
    resp = await client.get("/api/tasks", headers=bearer(key))
    assert resp.status_code == 401 and resp.json()["code"] == "TOKEN_EXPIRED"
    assert "expired" in resp.json()["error"]


async def test_last_used_is_written_at_most_once_a_minute(client, register_user):
    owner = await register_user()
    key = await new_key(client, owner, ["tasks:read"])
    assert (await client.get("/api/tasks", headers=bearer(key))).status_code == 200
    first = (await client.get(KEYS, headers=owner.headers)).json()[0]["last_used_at"]
    assert first is not None
    assert (await client.get("/api/tasks", headers=bearer(key))).status_code == 200
    again = (await client.get(KEYS, headers=owner.headers)).json()[0]["last_used_at"]
    assert again == first


async def test_user_deletion_ends_their_keys(client, register_user, admin):
    owner = await register_user()
    key = await new_key(client, owner, ["tasks:read"])
    assert (await client.delete(f"/api/users/{owner.id}", headers=admin.headers)
            ).status_code == 204
    assert (await client.get("/api/tasks", headers=bearer(key))).status_code == 401


async def test_sse_with_a_key_and_closed_when_the_key_is_deleted(server, client, register_user):
    owner = await register_user()
    key = await new_key(client, owner, ["tasks:read"])
    tag = uuid.uuid4().hex
    async with SSEReader(server.url + STREAM, headers=header(key)) as stream:
        assert stream.status == 200
        await publish_on(server, "task_update", {"task_id": tag}, user_id=owner.id)
        await stream.wait_for(lambda f: f["data"].get("task_id") == tag)
        assert (await client.delete(f"{KEYS}/{key['id']}", headers=owner.headers)
                ).status_code == 204
        await stream.wait_closed(within=10)
    narrow = await new_key(client, owner, ["chat"])
    async with SSEReader(server.url + STREAM, token=narrow["key"]) as refused:
        assert refused.status == 403


async def test_socketio_with_a_key_and_disconnected_when_deleted(server, client,
                                                                 register_user):
    owner = await register_user()
    key = await new_key(client, owner, ["tasks:read"])
    tag = uuid.uuid4().hex
    got: list[dict] = []
    sio = socketio.AsyncClient(reconnection=False)
    sio.on("task_update", lambda data: got.append(data))
    await sio.connect(server.url, auth={"api_key": key["key"]}, transports=["websocket"])
    try:
        await publish_on(server, "task_update", {"task_id": tag}, user_id=owner.id)
        for _ in range(500):
            if any(d.get("task_id") == tag for d in got):
                break
            await asyncio.sleep(0.02)
        assert any(d.get("task_id") == tag for d in got)
        await client.delete(f"{KEYS}/{key['id']}", headers=owner.headers)
        for _ in range(500):
            if not sio.connected:
                break
            await asyncio.sleep(0.02)
        assert not sio.connected
    finally:
        if sio.connected:
            await sio.disconnect()
    narrow = await new_key(client, owner, ["chat"])
    refused = socketio.AsyncClient(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await refused.connect(server.url, auth={"token": narrow["key"]},
                              transports=["websocket"], wait_timeout=5)


async def test_request_log_names_the_keys_owner(client, register_user, admin):
    owner = await register_user()
    key = await new_key(client, owner, ["tasks:read"])
    agent = f"key-agent/{uuid.uuid4().hex[:6]}"
    assert (await client.get("/api/tasks", headers={**header(key), "User-Agent": agent})
            ).status_code == 200
    for _ in range(250):
        logs = (await client.get("/api/monitoring/logs/requests", headers=admin.headers,
                                 params={"limit": 100})).json()
        rows = [r for r in logs if r["user_agent"] == agent]
        if rows:
            break
        await asyncio.sleep(0.04)
    assert rows and rows[0]["user_id"] == owner.id
