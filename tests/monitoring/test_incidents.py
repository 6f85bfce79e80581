"""Incidents: open, investigate with an assignee, resolve; the timeline records each step."""

from __future__ import annotations

import uuid


async def test_incident_lifecycle(client, user, admin):
    title = f"API returning 500s {uuid.uuid4().hex[:6]}"
    resp = await client.post("/api/monitoring/incidents", headers=admin.headers, json={
        "title": title, "description": "The /api/tasks endpoint is returning 500 errors",
        "severity": "high"})
    assert resp.status_code == 201
    created = resp.json()
    assert set(created) == {"id", "status"}
    assert created["status"] == "open" and created["id"].startswith("inc_")
    incident_id = created["id"]

    resp = await client.get("/api/monitoring/incidents", params={"status": "open"},
                            headers=user.headers)
    assert incident_id in [i["id"] for i in resp.json()]
    assert resp.headers["X-Total-Count"]

    resp = await client.patch(f"/api/monitoring/incidents/{incident_id}", headers=admin.headers,
                              json={"status": "investigating", "assignee": admin.email,
                                    "note": "looking at the database"})
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "investigating" and body["assignee"] == admin.email

    resp = await client.patch(f"/api/monitoring/incidents/{incident_id}", headers=admin.headers,
                              json={"status": "resolved", "note": "index added"})
    body = resp.json()
    assert body["status"] == "resolved" and body["resolved_at"]
    assert [e["status"] for e in body["timeline"]] == ["open", "investigating", "resolved"]
    assert body["timeline"][1]["by"] == admin.email
    assert body["timeline"][2]["note"] == "index added"
    assert body["updated_at"] >= body["created_at"]

    resp = await client.get("/api/monitoring/incidents",
                            params={"status": "resolved", "severity": "high", "limit": 100},
                            headers=user.headers)
    found = [i for i in resp.json() if i["id"] == incident_id]
    assert found and found[0]["title"] == title
    assert found[0]["description"].startswith("The /api/tasks")
    resp = await client.get("/api/monitoring/incidents", params={"status": "open", "limit": 100},
                            headers=user.headers)
    assert incident_id not in [i["id"] for i in resp.json()]


async def test_only_admins_open_and_move_incidents(client, user, admin):
    resp = await client.post("/api/monitoring/incidents", headers=user.headers,
                             json={"title": "x", "severity": "low"})
    assert resp.status_code == 403
    resp = await client.post("/api/monitoring/incidents", headers=admin.headers,
                             json={"title": "x", "severity": "low"})
    incident_id = resp.json()["id"]
    resp = await client.patch(f"/api/monitoring/incidents/{incident_id}", headers=user.headers,
                              json={"status": "resolved"})
    assert resp.status_code == 403
    assert resp.json()["code"] == "INSUFFICIENT_PERMISSIONS"


async def test_incident_validation_and_missing(client, user, admin):
    resp = await client.post("/api/monitoring/incidents", headers=admin.headers,
                             json={"title": "x", "severity": "apocalyptic"})
    assert resp.status_code == 400
    assert resp.json()["code"] == "VALIDATION_ERROR"
    resp = await client.post("/api/monitoring/incidents", headers=admin.headers, json={})
    assert resp.status_code == 400
    resp = await client.patch("/api/monitoring/incidents/inc_missing", headers=admin.headers,
                              json={"status": "resolved"})
    assert resp.status_code == 404
    resp = await client.post("/api/monitoring/incidents", json={"title": "x"})
    assert resp.status_code == 401
