"""Scaled out: an event produced in one process reaches clients of another through Redis."""

from __future__ import annotations

import asyncio
import secrets
import tempfile
import uuid

import httpx
import pytest
import socketio

from tests.conftest import TEST_REDIS_URL
from tests.realtime.helpers import SSEReader, ThrowawayRedis
from tests.support import ProcessServer, register

STREAM = "/api/observability/events/stream"


@pytest.fixture(scope="module")
def redis_url():
    if TEST_REDIS_URL:
        yield TEST_REDIS_URL
        return
    redis = ThrowawayRedis().start()
    yield redis.url
    redis.kill()


@pytest.fixture(scope="module")
def two_processes(base_env, redis_url):
    env = {**base_env, "REDIS_URL": redis_url, "REDIS_NAMESPACE": f"xproc-{uuid.uuid4().hex[:8]}",
           "JWT_SECRET_KEY": secrets.token_urlsafe(48)}
    if "DATABASE_URL" not in env:  # SQLite: the two processes share their own fresh files
        env["CRAZY_GARY_DATA_DIR"] = tempfile.mkdtemp(prefix="cg-xproc-")
    tag = uuid.uuid4().hex[:6]
    a = ProcessServer({**env, "CRAZY_GARY_EXECUTOR_ID": f"xa-{tag}"}).start()
    b = ProcessServer({**env, "CRAZY_GARY_EXECUTOR_ID": f"xb-{tag}"})
    try:
        b.start()
        yield a, b
    finally:
        b.stop()
        a.stop()


async def test_event_from_one_process_reaches_sse_and_socket_clients_of_another(two_processes):
    a, b = two_processes
    async with httpx.AsyncClient(base_url=a.url, timeout=30) as client_a:
        user = await register(client_a)
        sio = socketio.AsyncClient(reconnection=False)
        got: list[dict] = []
        sio.on("task_created", lambda data: got.append(data))
        await sio.connect(b.url, auth={"token": user.token}, transports=["websocket"])
        try:
            async with SSEReader(b.url + STREAM, token=user.token) as stream:
                title = f"cross-process {uuid.uuid4().hex}"
                resp = await client_a.post("/api/tasks", headers=user.headers,
                                           json={"title": title, "description": "d"})
                assert resp.status_code == 201, resp.text
                frame = await stream.wait_for(lambda f: f["data"].get("title") == title)
                assert frame["event"] == "task_created"
                assert frame["data"]["task_id"] == resp.json()["task_id"]
                for _ in range(500):
                    if any(d.get("title") == title for d in got):
                        break
                    await asyncio.sleep(0.02)
                assert any(d.get("title") == title for d in got), got
        finally:
            await sio.disconnect()
