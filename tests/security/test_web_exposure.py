"""Web exposure of issue 13 (low), replayed against a real server: access tokens in URLs
and log lines, missing security headers, a socket.io server that welcomed any origin with
credentials, and incidents any user could broadcast, showing everyone the reporter's email."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid

import httpx
import pytest
import socketio
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tests.realtime.helpers import SSEReader
from tests.support import ThreadServer, instance_server

STREAM = "/api/observability/events/stream"


# -- access tokens in URLs and log lines (LOW) ----------------------------------------------

async def test_sse_takes_the_token_from_the_header_not_the_url(client, user):
    resp = await client.get(STREAM, params={"token": user.token})
    assert resp.status_code == 401
    assert resp.json()["code"] == "AUTH_REQUIRED"
    assert "Authorization" in resp.json()["error"]


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


async def test_tokens_never_reach_a_log_line(server, client, user, admin):
    from uvicorn.logging import AccessFormatter

    capture = _Capture()
    capture.setFormatter(AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s',
                                         use_colors=False))
    error_capture = _Capture()
    loggers = {name: logging.getLogger(name) for name in ("uvicorn.access", "uvicorn.error")}
    levels = {name: lg.level for name, lg in loggers.items()}
    loggers["uvicorn.access"].addHandler(capture)
    loggers["uvicorn.error"].addHandler(error_capture)
    for lg in loggers.values():
        lg.setLevel(logging.INFO)
    request_id = f"redact-{uuid.uuid4().hex}"
    try:
        resp = await client.get(STREAM, params={"token": user.token},
                                headers={"X-Request-ID": request_id})
        assert resp.status_code == 401
        resp = await client.get("/api/auth/me", headers=user.headers,
                                params={"access_token": user.token, "Token": user.token})
        assert resp.status_code == 200
        sio = socketio.AsyncClient(reconnection=False)  # the contract's query-string form
        await sio.connect(f"{server.url}?token={user.token}", transports=["websocket"])
        await sio.disconnect()
        await asyncio.sleep(0.3)
    finally:
        for name, lg in loggers.items():
            lg.setLevel(levels[name])
        loggers["uvicorn.access"].removeHandler(capture)
        loggers["uvicorn.error"].removeHandler(error_capture)
    lines = capture.lines + error_capture.lines
    assert any(STREAM in line for line in capture.lines), capture.lines
    assert any("/socket.io/" in line for line in lines), lines
    assert not [line for line in lines if user.token in line]
    assert any("token=[redacted]" in line for line in capture.lines)

    async def logged():
        resp = await client.get("/api/monitoring/logs/requests", headers=admin.headers,
                                params={"limit": 100})
        return resp.json()

    for _ in range(50):
        rows = await logged()
        if any(r["request_id"] == request_id for r in rows):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the request never reached the request log")
    assert user.token not in json.dumps(rows)
    traces = await client.get("/api/observability/traces/active", headers=admin.headers,
                              params={"limit": 100})
    assert traces.status_code == 200
    assert "/api/auth/me" in traces.text and user.token not in traces.text


# -- security headers and socket.io origins (LOW) -------------------------------------------

HEADERS = {"x-content-type-options": "nosniff", "x-frame-options": "DENY",
           "referrer-policy": "no-referrer",
           "content-security-policy": "frame-ancestors 'none'"}


def _assert_secured(resp: httpx.Response) -> None:
    for name, value in HEADERS.items():
        assert resp.headers.get(name) == value, (resp.request.url, name, resp.headers)


async def test_every_response_carries_the_security_headers(server, client, user):
    answers = [
        await client.get("/health/live"),
        await client.get("/api/auth/me", headers=user.headers),
        await client.get("/api/auth/me"),  # 401
        await client.get(f"/api/no-such-route-{uuid.uuid4().hex}"),  # 404
        await client.put("/api/tasks", headers=user.headers),  # 405
        await client.get("/socket.io/", params={"EIO": "4", "transport": "polling"}),
    ]
    for resp in answers:
        _assert_secured(resp)
        assert "strict-transport-security" not in resp.headers  # plain HTTP


async def test_hsts_only_when_served_over_https(client):
    # The test server trusts proxy headers from 127.0.0.1 (uvicorn's default).
    resp = await client.get("/health/live", headers={"X-Forwarded-Proto": "https"})
    assert resp.headers["strict-transport-security"].startswith("max-age=")
    resp = await client.get("/health/live")
    assert "strict-transport-security" not in resp.headers


async def test_a_routes_own_content_security_policy_is_kept():
    from crazy_gary.kit.security_headers import SecurityHeadersMiddleware

    async def page(request):
        return PlainTextResponse("<html>", headers={
            "Content-Security-Policy": "default-src 'self'"})

    srv = ThreadServer(SecurityHeadersMiddleware(Starlette(routes=[Route("/", page)]))).start()
    try:
        async with httpx.AsyncClient(base_url=srv.url) as c:
            resp = await c.get("/")
        assert resp.headers.get_list("content-security-policy") == ["default-src 'self'"]
        assert resp.headers["x-frame-options"] == "DENY"
    finally:
        srv.stop()


async def test_socketio_refuses_a_foreign_origin(server, user):
    evil = "https://evil.example"
    async with httpx.AsyncClient(base_url=server.url) as c:
        resp = await c.get("/socket.io/", params={"EIO": "4", "transport": "polling"},
                           headers={"Origin": evil})
        assert resp.status_code == 400
        assert resp.headers.get("access-control-allow-origin") != evil
        assert "access-control-allow-credentials" not in resp.headers
        same = await c.get("/socket.io/", params={"EIO": "4", "transport": "polling"},
                           headers={"Origin": server.url})
        assert same.status_code == 200
        assert "access-control-allow-credentials" not in same.headers
    client = socketio.AsyncClient(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(server.url, auth={"token": user.token}, headers={"Origin": evil},
                             transports=["websocket"], wait_timeout=5)
    assert not client.connected


async def test_configured_origins_are_allowed_and_only_them():
    allowed = "https://console.example"
    srv = instance_server(CORS_ORIGINS=f"{allowed}, https://b.example")
    try:
        async with httpx.AsyncClient(base_url=srv.url) as c:
            query = {"EIO": "4", "transport": "polling"}
            ok = await c.get("/socket.io/", params=query, headers={"Origin": allowed})
            assert ok.status_code == 200
            assert ok.headers["access-control-allow-origin"] == allowed
            assert "access-control-allow-credentials" not in ok.headers
            bad = await c.get("/socket.io/", params=query,
                              headers={"Origin": "https://evil.example"})
            assert bad.status_code == 400
            preflight = await c.options("/api/auth/me", headers={
                "Origin": allowed, "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization"})
            assert preflight.headers["access-control-allow-origin"] == allowed
            assert preflight.headers["x-request-id"]
            assert "access-control-allow-credentials" not in preflight.headers
            foreign = await c.get("/health/live", headers={"Origin": "https://evil.example"})
            assert "access-control-allow-origin" not in foreign.headers
    finally:
        srv.stop()


# -- incidents: who may open them, what others see (LOW) ------------------------------------

async def test_only_admins_open_incidents_and_users_get_no_broadcast(server, client, user,
                                                                     other_user):
    title = f"spoofed outage {uuid.uuid4().hex}"
    async with SSEReader(server.url + STREAM, token=other_user.token) as stream:
        resp = await client.post("/api/monitoring/incidents", headers=user.headers,
                                 json={"title": title, "severity": "critical"})
        assert resp.status_code == 403
        assert resp.json()["code"] == "INSUFFICIENT_PERMISSIONS"
        await asyncio.sleep(0.5)
        assert not [f for f in stream.frames if f["data"].get("title") == title]


async def test_incident_views_and_events_show_no_email_to_users(server, client, user, admin):
    title = f"db slow {uuid.uuid4().hex}"
    async with SSEReader(server.url + STREAM, token=user.token) as stream:
        resp = await client.post("/api/monitoring/incidents", headers=admin.headers,
                                 json={"title": title, "severity": "high"})
        assert resp.status_code == 201
        incident_id = resp.json()["id"]
        resp = await client.patch(f"/api/monitoring/incidents/{incident_id}",
                                  headers=admin.headers,
                                  json={"status": "investigating", "assignee": admin.email})
        assert resp.status_code == 200
        await stream.wait_for(lambda f: f["event"] == "incident_created"
                              and f["data"]["title"] == title)
        await stream.wait_for(lambda f: f["event"] == "incident_updated"
                              and f["data"]["id"] == incident_id)
        pushed = [f for f in stream.frames if f["data"].get("id") == incident_id]
        assert admin.email not in json.dumps(pushed)
    as_user = [
        (await client.get(f"/api/monitoring/incidents/{incident_id}", headers=user.headers)),
        (await client.get("/api/monitoring/incidents", headers=user.headers,
                          params={"limit": 100})),
        (await client.get("/api/monitoring/health/dashboard", headers=user.headers)),
    ]
    for resp in as_user:
        assert resp.status_code == 200
        assert admin.email not in resp.text
    view = as_user[0].json()
    assert view["assignee"] is None
    assert [e["status"] for e in view["timeline"]] == ["open", "investigating"]
    assert all(e["by"] is None for e in view["timeline"])
    full = (await client.get(f"/api/monitoring/incidents/{incident_id}",
                             headers=admin.headers)).json()
    assert full["assignee"] == admin.email and full["timeline"][0]["by"] == admin.email
