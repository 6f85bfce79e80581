"""/api/endpoints on the shared server (both models are bare stand-in URLs there)."""

from __future__ import annotations


async def test_status_of_all_endpoints_in_the_contract_shape(client, user):
    resp = await client.get("/api/endpoints/status", headers=user.headers)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["success"] is True and set(body["endpoints"]) == {"120b", "20b"}
    for view in body["endpoints"].values():
        assert {"status", "url", "last_activity", "wake_time", "sleep_time",
                "auto_sleep_in"} <= set(view)
        assert view["status"] == "running" and view["auto_sleep_in"] is None


async def test_status_of_one_endpoint_and_unknown_type(client, user):
    resp = await client.get("/api/endpoints/status/120b", headers=user.headers)
    assert resp.status_code == 200 and resp.json()["status"] == "running"
    assert resp.json()["url"].endswith("/v1")
    missing = await client.get("/api/endpoints/status/70b", headers=user.headers)
    assert missing.status_code == 404 and missing.json()["code"] == "NOT_FOUND"


async def test_routes_require_sign_in(client):
    for method, path in (("GET", "/api/endpoints/status"), ("POST", "/api/endpoints/wake"),
                         ("POST", "/api/endpoints/sleep/120b")):
        resp = await client.request(method, path)
        assert resp.status_code == 401 and resp.json()["code"] == "AUTH_REQUIRED"


async def test_a_normal_user_cannot_put_endpoints_to_sleep(client, user):
    for path in ("/api/endpoints/sleep", "/api/endpoints/sleep/120b"):
        resp = await client.post(path, headers=user.headers)
        assert resp.status_code == 403
        assert resp.json()["code"] == "INSUFFICIENT_PERMISSIONS"
    status = await client.get("/api/endpoints/status/120b", headers=user.headers)
    assert status.json()["status"] == "running"


async def test_bare_url_endpoints_answer_409_to_wake_and_sleep(client, user, admin):
    wake = await client.post("/api/endpoints/wake/120b", headers=user.headers)
    assert wake.status_code == 409 and wake.json()["code"] == "CONFLICT"
    assert "cannot be woken" in wake.json()["error"]
    sleep = await client.post("/api/endpoints/sleep/20b", headers=admin.headers)
    assert sleep.status_code == 409
    # "all" skips what cannot be managed instead of failing.
    wake_all = await client.post("/api/endpoints/wake", headers=user.headers)
    assert wake_all.json() == {"success": True,
                               "message": "All endpoints wake operation initiated"}


async def test_huggingface_api_health_component(server):
    from crazy_gary.endpoints.health import huggingface_api_check

    result = server.run_coro(huggingface_api_check())
    assert result["status"] in ("healthy", "degraded")  # degraded if recent calls failed
    assert result["response_time"] >= 0 and 0 <= result["error_rate"] <= 1
    assert result["endpoints"]["120b"]["status"] == "running"
