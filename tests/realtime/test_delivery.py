"""The cheap delivery paths: subscription wake-ups and heartbeats, the SSE ASGI response,
socket.io's one-pass broadcast."""

from __future__ import annotations

import asyncio
import itertools
import uuid

import socketio

from crazy_gary import runtime
from crazy_gary.realtime.broker import LocalBroker, PublishedEvent, Subscription
from crazy_gary.realtime.fanout import user_room
from crazy_gary.realtime.revocation import Credential, StreamGuard
from crazy_gary.realtime.router import EventStreamResponse
from crazy_gary.realtime.sio_delivery import FastEmitManager

_ids = itertools.count(10**12)
NOBODY = 10**9  # a user id no real test user has, so other tests' streams never see these


def event(user_id: int | None = NOBODY, **data) -> PublishedEvent:
    return PublishedEvent(id=next(_ids), event="probe", data=data, user_id=user_id)


async def test_subscription_returns_what_is_pending_as_one_batch():
    sub = Subscription(None, maxsize=10)
    for n in range(3):
        sub.push(event(n=n))
    batch = await sub.next_batch(5)
    assert [e.data["n"] for e in batch] == [0, 1, 2]


async def test_heartbeat_only_after_an_idle_period():
    sub = Subscription(None, maxsize=100)
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await sub.next_batch(0.1) == []  # idle: the heartbeat comes after ~0.1 s
    assert loop.time() - started >= 0.09

    async def trickle():
        for n in range(8):
            await asyncio.sleep(0.03)
            sub.push(event(n=n))

    feeder = asyncio.create_task(trickle())
    got: list[PublishedEvent] = []
    while len(got) < 8:
        batch = await sub.next_batch(0.1)
        assert batch, "no heartbeat while events keep coming within the idle period"
        got.extend(batch)
    await feeder
    sub.close()
    assert sub._timer is None


async def test_overflow_and_close_end_the_wait():
    sub = Subscription(None, maxsize=2)
    for n in range(3):
        sub.push(event(n=n))
    assert sub.overflowed and await sub.next_batch(5) == []
    other = Subscription(None, maxsize=2)
    waiter = asyncio.create_task(other.next_batch(30))
    await asyncio.sleep(0.01)
    other.close()
    assert await asyncio.wait_for(waiter, 1) == []


async def test_event_stream_response_frames_pings_and_disconnect():
    """Driven as ASGI directly: own events as frames, others' never, pings when idle, and
    the subscription is gone once the client disconnects."""
    user_id = NOBODY + 1
    bodies: list[bytes] = []
    started: list[dict] = []
    disconnect = asyncio.Event()

    async def send(message):
        if message["type"] == "http.response.start":
            started.append(message)
        else:
            bodies.append(message.get("body", b""))

    async def receive():
        await disconnect.wait()
        return {"type": "http.disconnect"}

    broker = LocalBroker()
    before = len(broker)
    guard = StreamGuard(interval=60)  # no sweep during the test: it only tracks the stream
    credential = Credential(database=None, settings=None, token="unchecked")
    response = EventStreamResponse(user_id, None, 0.05, guard, credential, broker)
    task = asyncio.create_task(response({"type": "http"}, receive, send))
    await asyncio.sleep(0.01)
    assert len(broker) == before + 1
    assert len(guard) == 1
    mine, system, foreign = event(user_id, k="mine"), event(None, k="sys"), event(user_id + 1)
    for e in (mine, system, foreign):
        broker.deliver(e)
    await asyncio.sleep(0.12)  # > heartbeat: at least one ping after the frames
    disconnect.set()
    await asyncio.wait_for(task, 2)
    assert len(broker) == before
    assert len(guard) == 0
    headers = dict(started[0]["headers"])
    assert started[0]["status"] == 200
    assert headers[b"content-type"].startswith(b"text/event-stream")
    assert headers[b"cache-control"] == b"no-cache"
    stream = b"".join(bodies)
    assert stream.startswith(b"retry: 3000\n: connected\n\n")
    assert mine.sse_frame in stream and system.sse_frame in stream
    assert foreign.sse_frame not in stream
    assert b": ping\n\n" in stream.split(system.sse_frame, 1)[1]


async def test_broadcasts_go_through_the_one_pass_manager_binary_included(server, user):
    sio = runtime.current().fanout.socket_servers[0]
    client = socketio.AsyncClient(reconnection=False)
    got: asyncio.Queue = asyncio.Queue()
    client.on("blob", lambda data: got.put_nowait(data))
    client.on("note", lambda data: got.put_nowait(data))
    await client.connect(server.url, auth={"token": user.token}, transports=["websocket"])
    try:
        assert isinstance(sio.manager, FastEmitManager)
        tag = uuid.uuid4().hex
        # Binary attachments are several engine.io packets, sent in order.
        await asyncio.to_thread(server.run_coro, sio.emit(
            "blob", {"tag": tag, "raw": b"\x00\x01"}, room=user_room(user.id)))
        await asyncio.to_thread(server.run_coro, sio.emit(
            "note", {"tag": tag}, room=user_room(user.id)))
        first = await asyncio.wait_for(got.get(), 10)
        second = await asyncio.wait_for(got.get(), 10)
        assert first == {"tag": tag, "raw": b"\x00\x01"}
        assert second == {"tag": tag}
    finally:
        await client.disconnect()
