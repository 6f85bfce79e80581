"""Deliveries to a real local receiver: Standard Webhooks signatures checked with an
independent implementation, retries after a 500 and after the receiver was down,
redelivery, and the events of real tasks reaching only their owner's webhooks."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook as StandardWebhook

from crazy_gary.db import session_scope, utcnow
from crazy_gary.kit.clock import iso
from crazy_gary.realtime.models import Event
from crazy_gary.webhooks.dispatch import new_delivery
from crazy_gary.webhooks.models import Webhook
from tests.support import free_port
from tests.tasks.helpers import create, run_task, tag, wait_for
from tests.webhooks.helpers import create_webhook, deliveries, wait_delivery
from tests.webhooks.receiver import Receiver


@pytest.fixture
def receiver():
    srv = Receiver().start()
    yield srv
    srv.stop()


def expected_signature(secret: str, headers: dict[str, str], body: str) -> str:
    """The spec's signature, computed here rather than by the server's code."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.{body}".encode()
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


async def test_test_event_is_signed_per_standard_webhooks(client, user, receiver):
    hook = await create_webhook(client, user, receiver.url, ["task.completed"])
    resp = await client.post(f"/api/webhooks/{hook['id']}/test", headers=user.headers)
    assert resp.status_code == 202, resp.text
    delivery = resp.json()
    assert delivery["event"] == "webhook.test" and delivery["id"].startswith("msg_")

    got = (await receiver.wait(lambda r: len(r) >= 1))[0]
    assert got.path == "/hook"
    assert got.headers["webhook-id"] == delivery["id"]
    assert abs(int(got.headers["webhook-timestamp"]) - time.time()) < 60
    assert got.headers["webhook-signature"] == expected_signature(hook["secret"], got.headers,
                                                                  got.body)
    payload = StandardWebhook(hook["secret"]).verify(got.body, got.headers)
    assert payload["type"] == "webhook.test"
    assert payload["data"]["webhook_id"] == hook["id"] and payload["timestamp"]
    wrong = StandardWebhook(base64.b64encode(b"x" * 32).decode())
    with pytest.raises(Exception):  # noqa: B017 - the library's own verification error
        wrong.verify(got.body, got.headers)

    done = await wait_delivery(client, user, hook["id"], delivery["id"],
                               lambda d: d["status"] == "succeeded")
    assert done["attempts"] == 1 and done["last_response_code"] == 200
    assert done["next_attempt_at"] is None and done["delivered_at"]
    shown = await client.get(f"/api/webhooks/{hook['id']}", headers=user.headers)
    assert shown.json()["last_success_at"]


async def test_a_500_is_retried_with_the_same_webhook_id(client, user, receiver):
    receiver.answers = [500, 503]
    hook = await create_webhook(client, user, receiver.url, ["task.completed"])
    delivery = (await client.post(f"/api/webhooks/{hook['id']}/test",
                                  headers=user.headers)).json()
    got = await receiver.wait(lambda r: len(r) >= 3)
    assert {r.headers["webhook-id"] for r in got} == {delivery["id"]}
    assert len({r.body for r in got}) == 1
    for attempt in got:  # each attempt signed for its own timestamp
        assert StandardWebhook(hook["secret"]).verify(attempt.body, attempt.headers)
    done = await wait_delivery(client, user, hook["id"], delivery["id"],
                               lambda d: d["status"] == "succeeded")
    assert done["attempts"] == 3 and done["last_response_code"] == 200


async def test_a_receiver_that_was_down_gets_it_later(client, user):
    receiver = Receiver(port=free_port())  # not listening yet: connections are refused
    hook = await create_webhook(client, user, receiver.url, ["task.completed"])
    delivery = (await client.post(f"/api/webhooks/{hook['id']}/test",
                                  headers=user.headers)).json()
    failing = await wait_delivery(client, user, hook["id"], delivery["id"],
                                  lambda d: d["attempts"] >= 1)
    assert failing["status"] == "retrying" and failing["next_attempt_at"]
    assert failing["last_response_code"] is None and failing["last_error"]
    receiver.start()
    try:
        done = await wait_delivery(client, user, hook["id"], delivery["id"],
                                   lambda d: d["status"] == "succeeded")
        assert done["attempts"] >= 2
        assert [r.headers["webhook-id"] for r in receiver.received] == [delivery["id"]]
    finally:
        receiver.stop()


async def test_redelivery_sends_the_same_message_again(client, user, receiver):
    hook = await create_webhook(client, user, receiver.url, ["task.completed"])
    delivery = (await client.post(f"/api/webhooks/{hook['id']}/test",
                                  headers=user.headers)).json()
    await wait_delivery(client, user, hook["id"], delivery["id"],
                        lambda d: d["status"] == "succeeded")
    path = f"/api/webhooks/{hook['id']}/deliveries/{delivery['id']}/redeliver"
    resp = await client.post(path, headers=user.headers)
    assert resp.status_code == 202, resp.text
    got = await receiver.wait(lambda r: len(r) >= 2)
    assert [r.headers["webhook-id"] for r in got] == [delivery["id"]] * 2
    assert got[0].body == got[1].body
    done = await wait_delivery(client, user, hook["id"], delivery["id"],
                               lambda d: d["status"] == "succeeded" and d["attempts"] == 2)
    assert done["last_response_code"] == 200
    missing = await client.post(f"/api/webhooks/{hook['id']}/deliveries/msg_nope/redeliver",
                                headers=user.headers)
    assert missing.status_code == 404


async def test_task_events_reach_only_the_owners_webhooks(client, model_standin,
                                                          register_user, receiver):
    owner, stranger = await register_user(), await register_user()
    other = Receiver().start()
    try:
        mine = await create_webhook(client, owner, receiver.url,
                                    ["task.completed", "task.stopped"])
        await create_webhook(client, stranger, other.url,
                             ["task.completed", "task.failed", "task.stopped"])
        script = tag("wh")
        model_standin.script(script, [{"content": "1. answer"}, {"content": "all done"}])
        task_id = await run_task(client, owner, script)
        assert (await wait_for(client, owner, task_id))["status"] == "completed"
        got = await receiver.wait(lambda r: any(
            json.loads(x.body)["data"].get("task_id") == task_id for x in r))
        [completed] = [json.loads(r.body) for r in got
                       if json.loads(r.body)["data"].get("task_id") == task_id]
        assert completed["type"] == "task.completed"
        assert completed["data"]["status"] == "completed"
        assert completed["data"]["user_id"] == str(owner.id)

        stopped_id = await create(client, owner, title="to stop")
        resp = await client.post(f"/api/tasks/{stopped_id}/stop", headers=owner.headers)
        assert resp.status_code == 200, resp.text
        await receiver.wait(lambda r: any(
            json.loads(x.body)["data"].get("task_id") == stopped_id for x in r))
        assert [json.loads(r.body)["type"] for r in receiver.of_type("task.stopped")
                if json.loads(r.body)["data"]["task_id"] == stopped_id] == ["task.stopped"]
        listed = await deliveries(client, owner, mine["id"])
        assert {d["event"] for d in listed} == {"task.completed", "task.stopped"}
        assert other.received == []  # the stranger's webhook heard nothing of it
    finally:
        other.stop()


async def _events_of(server, kind: str) -> list[tuple[int | None, dict]]:
    """(user_id, data) of every logged event of one kind, oldest first."""
    async def read():
        async with session_scope() as session:
            rows = await session.scalars(select(Event).where(Event.event == kind)
                                         .order_by(Event.id))
            return [(r.user_id, r.data) for r in rows]

    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(read(), server.loop))


async def test_failing_past_the_schedule_disables_the_webhook_and_tells_its_owner(
        client, server, register_user, admin, receiver):
    owner = await register_user()
    await create_webhook(client, admin, receiver.url, ["alert.fired"])
    dead = Receiver(port=free_port())  # never listens
    hook = await create_webhook(client, owner, dead.url, ["task.completed"])
    delivery = (await client.post(f"/api/webhooks/{hook['id']}/test",
                                  headers=owner.headers)).json()
    failed = await wait_delivery(client, owner, hook["id"], delivery["id"],
                                 lambda d: d["status"] == "failed", within=40)
    assert failed["attempts"] == 6  # the first and one per delay of "0.3,0.6,1,2,4"
    assert failed["next_attempt_at"] is None

    shown = (await client.get(f"/api/webhooks/{hook['id']}", headers=owner.headers)).json()
    assert shown["enabled"] is False and shown["disabled_reason"]
    told = [(uid, data) for uid, data in await _events_of(server, "webhook_disabled")
            if data["webhook_id"] == hook["id"]]
    assert [uid for uid, _ in told] == [owner.id]
    alerts = (await client.get("/api/monitoring/alerts", headers=admin.headers)).json()
    assert any(hook["id"] in a["message"] for a in alerts)
    # An administrator's alert.fired webhook hears of it (admin-only event).
    await receiver.wait(lambda r: any(
        json.loads(x.body)["type"] == "alert.fired"
        and hook["id"] in json.loads(x.body)["data"]["message"] for x in r))

    redeliver = f"/api/webhooks/{hook['id']}/deliveries/{delivery['id']}/redeliver"
    refused = await client.post(redeliver, headers=owner.headers)
    assert refused.status_code == 409
    dead.start()
    try:
        enabled = await client.patch(f"/api/webhooks/{hook['id']}", headers=owner.headers,
                                     json={"enabled": True})
        assert enabled.json()["enabled"] is True and enabled.json()["disabled_reason"] is None
        active = (await client.get("/api/monitoring/alerts", headers=admin.headers)).json()
        assert not any(hook["id"] in a["message"] for a in active)  # resolved on re-enable
        assert (await client.post(redeliver, headers=owner.headers)).status_code == 202
        done = await wait_delivery(client, owner, hook["id"], delivery["id"],
                                   lambda d: d["status"] == "succeeded")
        assert done["attempts"] == 7
        assert [r.headers["webhook-id"] for r in dead.received] == [delivery["id"]]
    finally:
        dead.stop()


async def test_a_delivery_whose_starter_died_is_started_by_the_sweep(client, server, user,
                                                                       receiver):
    """A process that committed deliveries and died before starting their workflows leaves
    them `queued`; any process's sweep starts them."""
    hook = await create_webhook(client, user, receiver.url, ["task.completed"])
    due = utcnow() - timedelta(seconds=60)

    async def strand() -> str:
        async with session_scope() as session:
            row = (await session.get_one(Webhook, hook["id"]))
            delivery = new_delivery(row, "task.completed", {"task_id": "task_stranded"},
                                    timestamp=iso(due))
            delivery.created_at = delivery.next_attempt_at = due
            session.add(delivery)
        return delivery.id

    delivery_id = await asyncio.wrap_future(
        asyncio.run_coroutine_threadsafe(strand(), server.loop))
    got = await receiver.wait(lambda r: len(r) >= 1, within=40)
    assert got[0].headers["webhook-id"] == delivery_id
    assert json.loads(got[0].body)["data"] == {"task_id": "task_stranded"}
    await wait_delivery(client, user, hook["id"], delivery_id,
                        lambda d: d["status"] == "succeeded")
