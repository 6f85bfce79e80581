"""Webhook subscriptions over HTTP: create (secret once), read, change, delete, ownership
and the validation of events and URLs."""

from __future__ import annotations

import base64

from tests.webhooks.helpers import create_webhook

HOOK = "http://127.0.0.1:9/hook"


async def test_create_returns_a_standard_secret_once(client, user):
    body = await create_webhook(client, user, HOOK, ["task.completed", "task.failed"],
                                description="CI")
    assert body["id"].startswith("wh_")
    assert body["url"] == HOOK and body["events"] == ["task.completed", "task.failed"]
    assert body["description"] == "CI" and body["enabled"] is True
    assert body["secret"].startswith("whsec_")
    assert len(base64.b64decode(body["secret"].removeprefix("whsec_"))) >= 24
    assert body["created_at"]

    one = await client.get(f"/api/webhooks/{body['id']}", headers=user.headers)
    assert one.status_code == 200 and "secret" not in one.json()
    listed = await client.get("/api/webhooks", headers=user.headers)
    assert listed.status_code == 200
    assert body["id"] in [w["id"] for w in listed.json()]
    assert all("secret" not in w for w in listed.json())
    assert listed.headers["x-total-count"]


async def test_update_and_delete(client, user):
    hook = await create_webhook(client, user, HOOK, ["task.completed"])
    resp = await client.patch(f"/api/webhooks/{hook['id']}", headers=user.headers,
                              json={"events": ["task.stopped"], "enabled": False,
                                    "description": "paused"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["events"] == ["task.stopped"]
    assert resp.json()["enabled"] is False and resp.json()["description"] == "paused"

    test = await client.post(f"/api/webhooks/{hook['id']}/test", headers=user.headers)
    assert test.status_code == 409 and test.json()["code"] == "CONFLICT"

    assert (await client.delete(f"/api/webhooks/{hook['id']}",
                                headers=user.headers)).status_code == 204
    gone = await client.get(f"/api/webhooks/{hook['id']}", headers=user.headers)
    assert gone.status_code == 404 and gone.json()["code"] == "NOT_FOUND"


async def test_another_users_webhook_is_not_found(client, user, other_user):
    hook = await create_webhook(client, user, HOOK, ["task.completed"])
    base = f"/api/webhooks/{hook['id']}"
    for method, path, body in (("GET", base, None), ("PATCH", base, {"enabled": False}),
                               ("DELETE", base, None), ("GET", f"{base}/deliveries", None),
                               ("POST", f"{base}/test", None),
                               ("POST", f"{base}/deliveries/msg_x/redeliver", None)):
        resp = await client.request(method, path, headers=other_user.headers, json=body)
        assert resp.status_code == 404, (method, path, resp.text)
    listed = await client.get("/api/webhooks", headers=other_user.headers)
    assert hook["id"] not in [w["id"] for w in listed.json()]
    still = await client.get(base, headers=user.headers)
    assert still.status_code == 200 and still.json()["enabled"] is True


async def test_unknown_events_and_bad_urls_are_refused(client, user):
    for body in ({"url": HOOK, "events": ["task.exploded"]},
                 {"url": HOOK, "events": []},
                 {"url": "ftp://example.com/x", "events": ["task.completed"]},
                 {"url": "http://user:pw@127.0.0.1/x", "events": ["task.completed"]},
                 {"url": "not a url", "events": ["task.completed"]},
                 {"events": ["task.completed"]}):
        resp = await client.post("/api/webhooks", headers=user.headers, json=body)
        assert resp.status_code == 400, (body, resp.text)
        assert resp.json()["code"] == "VALIDATION_ERROR"


async def test_admin_events_need_an_admins_webhook(client, user, admin):
    refused = await client.post("/api/webhooks", headers=user.headers,
                                json={"url": HOOK, "events": ["alert.fired"]})
    assert refused.status_code == 403
    assert refused.json()["code"] == "INSUFFICIENT_PERMISSIONS"
    hook = await create_webhook(client, admin, HOOK, ["alert.fired", "endpoint.status_changed"])
    assert hook["events"] == ["alert.fired", "endpoint.status_changed"]


async def test_requires_sign_in(client):
    resp = await client.get("/api/webhooks")
    assert resp.status_code == 401
