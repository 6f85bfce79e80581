"""Every error, expected or not, in the contract's format with a request id."""

from __future__ import annotations

import httpx
import pytest

from tests.support import instance_server

ERROR_KEYS = {"error", "code", "details", "timestamp", "request_id"}


def assert_error(resp: httpx.Response, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert set(body) >= ERROR_KEYS
    assert body["code"] == code
    assert body["timestamp"].endswith("Z")
    assert body["request_id"] == resp.headers["X-Request-ID"]
    return body


async def test_unknown_route(client):
    assert_error(await client.get("/api/nothing-here"), 404, "NOT_FOUND")


async def test_method_not_allowed(client):
    resp = await client.delete("/api/auth/login")
    assert_error(resp, 405, "METHOD_NOT_ALLOWED")
    assert "POST" in resp.headers["Allow"]


async def test_malformed_json(client):
    resp = await client.post("/api/auth/login", content=b'{"email": "a@b.c", ',
                             headers={"Content-Type": "application/json"})
    body = assert_error(resp, 400, "VALIDATION_ERROR")
    assert body["details"]["validation_errors"] == ["Malformed JSON body"]


async def test_wrong_json_shape(client):
    resp = await client.post("/api/auth/login", json=["a@b.c", "pw"])
    assert_error(resp, 400, "VALIDATION_ERROR")
    resp = await client.post("/api/auth/login", json={"email": 5, "password": None})
    assert len(assert_error(resp, 400, "VALIDATION_ERROR")["details"]["validation_errors"]) == 2


async def test_unstorable_text_is_a_validation_error(client, user):
    resp = await client.put("/api/auth/me", headers=user.headers, json={"name": "a\u0000b"})
    assert_error(resp, 400, "VALIDATION_ERROR")
    resp = await client.post("/api/auth/login", json={"email": "a\u0000@b.c", "password": "x"})
    assert resp.status_code in (400, 401)


async def test_body_over_one_mebibyte(client):
    big = b'{"email": "' + b"a" * (1024 * 1024) + b'"}'
    resp = await client.post("/api/auth/login", content=big,
                             headers={"Content-Type": "application/json"})
    assert_error(resp, 413, "PAYLOAD_TOO_LARGE")


async def test_chunked_body_over_one_mebibyte(client):
    async def chunks():
        yield b'{"email": "'
        for _ in range(20):
            yield b"a" * 65536
        yield b'"}'

    resp = await client.post("/api/auth/login", content=chunks(),
                             headers={"Content-Type": "application/json"})
    assert_error(resp, 413, "PAYLOAD_TOO_LARGE")


async def test_request_id_echoed_or_generated(client):
    mine = await client.get("/health/live", headers={"X-Request-ID": "trace-abc.123"})
    assert mine.headers["X-Request-ID"] == "trace-abc.123"
    hostile = await client.get("/api/nope", headers={"X-Request-ID": "x" * 300})
    assert hostile.headers["X-Request-ID"].startswith("req_")
    assert hostile.json()["request_id"] == hostile.headers["X-Request-ID"]
    a, b = await client.get("/health"), await client.get("/health")
    assert a.headers["X-Request-ID"] != b.headers["X-Request-ID"]


@pytest.fixture(scope="module")
def broken_server():
    srv = instance_server(app="tests.kit.boom_app:build")
    yield srv
    srv.stop()


async def test_unexpected_exception_is_a_bare_500(broken_server):
    async with httpx.AsyncClient(base_url=broken_server.url) as c:
        resp = await c.get("/boom")
    body = assert_error(resp, 500, "INTERNAL_ERROR")
    assert body["error"] == "Internal server error"
    assert "secret" not in resp.text and "Traceback" not in resp.text
