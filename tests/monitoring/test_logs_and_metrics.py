"""Request and error logs (admin only), metrics, the dashboard and Prometheus exposition."""

from __future__ import annotations

import asyncio
import logging
import uuid

import httpx

from crazy_gary.kit.clock import iso_now


async def _poll(fetch, predicate, within: float = 10.0):
    for _ in range(int(within / 0.1)):
        result = await fetch()
        if predicate(result):
            return result
        await asyncio.sleep(0.1)
    raise AssertionError(f"condition not met; last: {result}")


async def test_request_logs_are_admin_only_and_record_requests(client, user, admin):
    resp = await client.get("/api/monitoring/logs/requests", headers=user.headers)
    assert resp.status_code == 403
    since = iso_now()
    agent = f"test-agent/{uuid.uuid4().hex[:6]}"
    await client.get("/api/auth/me", headers={**user.headers, "User-Agent": agent})

    async def fetch():
        resp = await client.get("/api/monitoring/logs/requests", headers=admin.headers,
                                params={"limit": 100, "start_time": since})
        assert resp.status_code == 200
        return resp.json()

    logs = await _poll(fetch, lambda rows: any(r["user_agent"] == agent for r in rows))
    row = next(r for r in logs if r["user_agent"] == agent)
    assert row["method"] == "GET" and row["path"] == "/api/auth/me"
    assert row["status_code"] == 200 and row["response_time"] >= 0
    assert row["ip_address"] == "127.0.0.1"
    assert row["timestamp"] >= since[:19]
    assert all(r["timestamp"] >= since[:19] for r in logs)


async def test_errors_are_logged_with_request_id_and_stack_trace(server, client, admin, user):
    app = server.config.app.fastapi_app
    marker = uuid.uuid4().hex
    path = f"/api/test-boom-{marker}"

    async def boom():
        raise RuntimeError(f"kaboom {marker}")

    app.add_api_route(path, boom, include_in_schema=False)
    async with httpx.AsyncClient(base_url=server.url) as fresh:  # the server drops this socket
        resp = await fresh.get(path)
    assert resp.status_code == 500
    assert "kaboom" not in resp.text and "Traceback" not in resp.text
    request_id = resp.json()["request_id"]
    assert request_id
    logging.getLogger("crazy_gary.tests").warning("warning %s", marker)

    async def fetch():
        resp = await client.get("/api/monitoring/logs/errors", headers=admin.headers,
                                params={"level": "error"})
        return resp.json()

    rows = await _poll(fetch, lambda rows: any(r["request_id"] == request_id for r in rows))
    row = next(r for r in rows if r["request_id"] == request_id)
    assert row["level"] == "error"
    assert "Traceback" in row["stack_trace"] and f"kaboom {marker}" in row["stack_trace"]
    assert row["component"] == "api"
    warnings = (await client.get("/api/monitoring/logs/errors", headers=admin.headers,
                                 params={"level": "warning"})).json()
    assert all(r["level"] == "warning" for r in warnings)
    assert (await client.get("/api/monitoring/logs/errors",
                             headers=user.headers)).status_code == 403

    async def requests():
        return (await client.get("/api/monitoring/logs/requests", headers=admin.headers)).json()

    await _poll(requests, lambda rows: any(r["path"] == path and r["status_code"] == 500
                                           for r in rows))


def test_engine_cancel_tracebacks_are_not_stored():
    from crazy_gary.monitoring.log_handler import is_noise

    class DBOSWorkflowCancelledError(Exception):
        pass

    try:
        raise DBOSWorkflowCancelledError("Workflow abc was cancelled")
    except DBOSWorkflowCancelledError:
        import sys

        record = logging.LogRecord("dbos", logging.ERROR, __file__, 1, "Exception encountered",
                                   None, sys.exc_info())
    assert is_noise(record)
    real = logging.LogRecord("dbos", logging.ERROR, __file__, 1, "database unreachable",
                             None, None)
    assert not is_noise(real)


async def test_metrics_count_requests_across_processes(client, user):
    async def fetch():
        return (await client.get("/api/monitoring/metrics", headers=user.headers)).json()

    before = await fetch()
    for key in ("cpu", "memory", "disk", "network", "requests"):
        assert key in before
    assert before["memory"]["total"] > 0 and 0 <= before["memory"]["usage_percent"] <= 100
    assert before["disk"]["total"] >= before["disk"]["used"]
    assert len(before["cpu"]["load_average"]) == 3
    assert before["network"]["bytes_sent"] >= 0
    for _ in range(3):
        await client.get("/api/auth/me", headers=user.headers)
    after = await _poll(fetch, lambda m: m["requests"]["total"] >= before["requests"]["total"] + 3)
    req = after["requests"]
    assert req["successful"] + req["failed"] == req["total"]
    assert req["average_response_time"] > 0


async def test_dashboard(client, user):
    resp = await client.get("/api/monitoring/health/dashboard", headers=user.headers)
    assert resp.status_code == 200
    body = resp.json()
    assert body["health"]["service"] == "crazy-gary"
    assert "usage" in body["metrics"]["cpu"]
    assert "usage_percent" in body["metrics"]["memory"]
    assert "total" in body["metrics"]["requests"]
    assert isinstance(body["alerts"], list) and isinstance(body["incidents"], list)


async def test_prometheus_exposition(client, user):
    await client.get("/api/auth/me", headers=user.headers)
    resp = await client.get("/metrics")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain")
    text = resp.text
    assert 'crazy_gary_http_requests_total{method="GET",route="/api/auth/me",status="200"}' in text
    assert "crazy_gary_http_request_duration_seconds_bucket" in text
    for name in ("crazy_gary_tasks_total", "crazy_gary_model_call_duration_seconds",
                 "crazy_gary_tool_call_duration_seconds", "crazy_gary_endpoint_state",
                 "crazy_gary_events_total"):
        assert name in text, name


async def test_log_and_alert_lists_page_with_limit_offset_and_headers(client, user, admin):
    agent = f"pager/{uuid.uuid4().hex[:6]}"
    since = iso_now()
    for _ in range(5):
        await client.get("/api/auth/me", headers={**user.headers, "User-Agent": agent})

    async def page(offset: int) -> httpx.Response:
        resp = await client.get("/api/monitoring/logs/requests", headers=admin.headers,
                                params={"limit": 2, "offset": offset, "start_time": since})
        assert resp.status_code == 200
        return resp

    # (The log is live: each read is logged too, so pages are compared by shape.)
    first = await _poll(lambda: page(0), lambda r: int(r.headers["X-Total-Count"]) >= 5)
    assert len(first.json()) == 2 and first.headers["X-Has-More"] == "true"
    assert 'rel="next"' in first.headers["Link"]
    whole = (await client.get("/api/monitoring/logs/requests", headers=admin.headers,
                              params={"start_time": since})).json()
    assert [r["user_agent"] for r in whole].count(agent) == 5
    beyond = await page(10_000)
    assert beyond.json() == [] and beyond.headers["X-Has-More"] == "false"
    assert beyond.headers["X-Offset"] == "10000" and 'rel="prev"' in beyond.headers["Link"]
    for path in ("/api/monitoring/logs/requests", "/api/monitoring/logs/errors",
                 "/api/monitoring/alerts"):
        too_many = await client.get(path, headers=admin.headers, params={"limit": 101})
        assert too_many.status_code == 400, path
        assert too_many.json()["code"] == "VALIDATION_ERROR"
    alerts = await client.get("/api/monitoring/alerts", headers=user.headers,
                              params={"status": "all", "limit": 1})
    assert alerts.status_code == 200 and len(alerts.json()) <= 1
    assert alerts.headers["X-Limit"] == "1" and "X-Total-Count" in alerts.headers
    default = await client.get("/api/monitoring/logs/errors", headers=admin.headers)
    assert default.headers["X-Limit"] == "100"  # the contract's default for logs
