"""Alerts: a rule fires once while its condition holds and resolves when it clears."""

from __future__ import annotations

import asyncio
import uuid

from crazy_gary.config import Settings
from crazy_gary.monitoring.rules import Readings, Verdict, evaluate_rules
from tests.realtime.helpers import SSEReader

STREAM = "/api/observability/events/stream"


def test_rules_read_the_thresholds():
    settings = Settings(ALERT_P95_LATENCY_MS=500)
    verdicts = {v.rule: v for v in evaluate_rules(settings, Readings(
        cpu_average=85.0, memory_percent=50.0, disk_percent=95.0, requests_5m=100,
        errors_5m=10, p95_ms_5m=800.0,
        components={"huggingface_api": {"status": "healthy",
                                        "endpoints": {"120b": {"state": "failed"},
                                                      "20b": {"state": "running"}}},
                    "mcp": {"status": "unhealthy", "error": "git: exited"},
                    "redis": {"status": "not_configured"}}))}
    assert verdicts["cpu_high"].firing
    assert not verdicts["memory_high"].firing
    assert verdicts["disk_high"].firing
    assert verdicts["error_rate_high"].firing and verdicts["error_rate_high"].value == 0.1
    assert verdicts["latency_p95_high"].firing
    assert verdicts["huggingface_api:120b"].firing
    assert not verdicts["huggingface_api:20b"].firing
    assert verdicts["component:mcp"].firing
    assert "component:redis" not in verdicts


def test_an_unreachable_model_endpoint_fires_its_own_alert():
    components = {"huggingface_api": {
        "status": "degraded",
        "endpoints": {"120b": {"status": "unreachable", "error": "connection refused"},
                      "20b": {"status": "running"}}}}
    verdicts = {v.rule: v for v in evaluate_rules(Settings(), Readings(components=components))}
    assert verdicts["huggingface_api:120b"].firing
    assert verdicts["huggingface_api:120b"].message == "Model endpoint 120b failed"
    assert not verdicts["huggingface_api:20b"].firing
    assert not verdicts["component:huggingface_api"].firing  # one of two down: degraded


def test_rules_wait_for_enough_data():
    verdicts = evaluate_rules(Settings(), Readings(requests_5m=3, errors_5m=3, p95_ms_5m=9e9))
    assert not [v for v in verdicts if v.rule in ("cpu_high", "error_rate_high",
                                                  "latency_p95_high")]


async def _apply(server, verdicts):
    from crazy_gary.monitoring.evaluation import apply_and_publish

    return await asyncio.to_thread(server.run_coro, apply_and_publish(verdicts))


async def test_alert_fires_once_and_resolves(server, client, user, admin):
    rule = f"test_rule:{uuid.uuid4().hex[:8]}"
    firing = Verdict(rule, True, "performance", "medium", f"{rule} is hot", "system", 91.0)
    async with SSEReader(server.url + STREAM, token=user.token) as stream:
        raised, _ = await _apply(server, [firing])
        assert len(raised) == 1
        again, _ = await _apply(server, [firing])  # still firing: no second alert
        assert again == []
        frame = await stream.wait_for(lambda f: f["event"] == "system_alert"
                                      and f["data"]["id"] == raised[0])
        assert frame["data"]["message"] == f"{rule} is hot"
        assert frame["data"]["severity"] == "medium"

        resp = await client.get("/api/monitoring/alerts", headers=user.headers)
        mine = [a for a in resp.json() if a["message"] == f"{rule} is hot"]
        assert len(mine) == 1
        alert = mine[0]
        assert alert["id"] == raised[0] and alert["acknowledged"] is False
        assert alert["type"] == "performance" and alert["component"] == "system"

        _, resolved = await _apply(server, [Verdict(rule, False)])
        assert resolved == raised
        await stream.wait_for(lambda f: f["event"] == "alert_resolved"
                              and f["data"]["id"] == raised[0])
        assert len([f for f in stream.frames if f["event"] == "system_alert"
                    and f["data"]["id"] == raised[0]]) == 1

    active = (await client.get("/api/monitoring/alerts", headers=user.headers)).json()
    assert raised[0] not in [a["id"] for a in active]
    history = (await client.get("/api/monitoring/alerts", params={"status": "resolved"},
                                headers=user.headers)).json()
    assert [a for a in history if a["id"] == raised[0]][0]["resolved_at"]

    # Firing again after it cleared is a new alert.
    raised_again, _ = await _apply(server, [firing])
    assert len(raised_again) == 1 and raised_again != raised
    await _apply(server, [Verdict(rule, False)])


async def test_acknowledge_is_for_admins(server, client, user, admin):
    rule = f"test_ack:{uuid.uuid4().hex[:8]}"
    raised, _ = await _apply(server, [Verdict(rule, True, message="ack me")])
    alert_id = raised[0]
    resp = await client.post(f"/api/monitoring/alerts/{alert_id}/acknowledge",
                             headers=user.headers)
    assert resp.status_code == 403
    resp = await client.post(f"/api/monitoring/alerts/{alert_id}/acknowledge",
                             headers=admin.headers)
    assert resp.status_code == 200
    assert resp.json()["acknowledged"] is True
    assert resp.json()["acknowledged_by"] == admin.email
    resp = await client.post("/api/monitoring/alerts/alert_nope/acknowledge",
                             headers=admin.headers)
    assert resp.status_code == 404
    await _apply(server, [Verdict(rule, False)])


async def test_scheduled_evaluation_runs_as_a_durable_workflow(server, client, user):
    from dbos import DBOS

    from crazy_gary.db import session_scope
    from crazy_gary.monitoring.workflows import SCHEDULE
    from crazy_gary.realtime.service import latest_event

    schedule = await asyncio.to_thread(DBOS.get_schedule, SCHEDULE)
    assert schedule is not None
    handle = await asyncio.to_thread(DBOS.trigger_schedule, SCHEDULE)
    await asyncio.to_thread(handle.get_result)

    async def latest():
        async with session_scope() as session:
            return await latest_event(session, event="health_status")

    event = await asyncio.to_thread(server.run_coro, latest())
    assert event is not None
    assert event.user_id is None
    assert event.data["status"] in ("healthy", "degraded", "unhealthy")
    assert "database" in event.data["components"]
