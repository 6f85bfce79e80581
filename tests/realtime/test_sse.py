"""Server-Sent Events: own and system events only, replay by Last-Event-ID, auth."""

from __future__ import annotations

import asyncio
import uuid

from tests.realtime.helpers import SSEReader, publish_on

STREAM = "/api/observability/events/stream"


async def test_stream_requires_a_token(client):
    resp = await client.get(STREAM)
    assert resp.status_code == 401
    assert resp.json()["code"] == "AUTH_REQUIRED"
    resp = await client.get(STREAM, params={"token": "not-a-jwt"})
    assert resp.status_code == 401


async def test_user_sees_own_and_system_events_never_anothers(server, user, other_user):
    tag = uuid.uuid4().hex
    async with SSEReader(server.url + STREAM, token=user.token) as mine, \
            SSEReader(server.url + STREAM, headers=other_user.headers) as theirs:
        await publish_on(server, "task_update", {"task_id": f"t-{tag}", "progress": 50},
                         user_id=user.id)
        await publish_on(server, "system_alert", {"message": f"sys-{tag}"})
        frame = await mine.wait_for(lambda f: f["data"].get("task_id") == f"t-{tag}")
        assert frame["event"] == "task_update" and frame["data"]["progress"] == 50
        assert isinstance(frame["id"], int)
        await mine.wait_for(lambda f: f["data"].get("message") == f"sys-{tag}")
        await theirs.wait_for(lambda f: f["data"].get("message") == f"sys-{tag}")
        await asyncio.sleep(0.2)
        assert not [f for f in theirs.frames if f["data"].get("task_id") == f"t-{tag}"]


async def test_reconnect_with_last_event_id_replays_missed_events(server, user, other_user):
    tag = uuid.uuid4().hex
    async with SSEReader(server.url + STREAM, token=user.token) as first:
        seen = await publish_on(server, "task_update", {"task_id": tag, "n": 1}, user_id=user.id)
        await first.wait_for(lambda f: f["id"] == seen)
    # Disconnected: these are missed, one of them belongs to someone else.
    missed = [await publish_on(server, "task_update", {"task_id": tag, "n": n}, user_id=user.id)
              for n in (2, 3)]
    foreign = await publish_on(server, "task_update", {"task_id": tag, "n": 99},
                               user_id=other_user.id)
    async with SSEReader(server.url + STREAM, token=user.token, last_event_id=seen) as again:
        live = await publish_on(server, "task_update", {"task_id": tag, "n": 4}, user_id=user.id)
        await again.wait_for(lambda f: f["id"] == live)
        ids = [f["id"] for f in again.frames if f["data"].get("task_id") == tag]
        assert ids == [*missed, live]
        assert foreign not in ids
        assert seen not in ids


async def test_heartbeats_keep_idle_streams_open(server, user):
    async with SSEReader(server.url + STREAM, token=user.token) as reader:
        assert reader.status == 200
        assert reader.comments >= 1  # the opening comment arrives before any event
