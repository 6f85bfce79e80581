"""A serving process told to stop (SIGTERM) drains: its SSE streams end with a `reconnect`
event (and a short `retry:`), its socket.io clients get a `reconnect` event before their
transport closes, and it exits cleanly, marked gone in the executor registry."""

from __future__ import annotations

import asyncio
import signal

import httpx
import socketio
from sqlalchemy import create_engine, text

from crazy_gary.config import to_sync_url
from tests.support import instance_server, register

STREAM = "/api/observability/events/stream"


async def test_sigterm_tells_sse_and_socketio_clients_to_reconnect():
    srv = instance_server()
    told = asyncio.Event()
    sio = socketio.AsyncClient(reconnection=False)
    sio.on("reconnect", lambda data: told.set())
    try:
        async with httpx.AsyncClient(base_url=srv.url, timeout=30) as client:
            user = await register(client)
            await sio.connect(srv.url, auth={"token": user.token}, transports=["websocket"],
                              wait_timeout=10)
            async with client.stream("GET", STREAM, headers=user.headers) as stream:
                received = ""
                chunks = stream.aiter_text()
                while ": connected" not in received:
                    received += await anext(chunks)
                srv.proc.send_signal(signal.SIGTERM)
                async for chunk in chunks:  # the server ends the stream
                    received += chunk
        await asyncio.wait_for(told.wait(), 10)
        exit_code = await asyncio.to_thread(srv.proc.wait, 40)
    finally:
        if sio.connected:
            await sio.disconnect()
        srv.stop()

    assert "event: reconnect" in received and "retry: 1000" in received, received
    # uvicorn re-raises the signal it caught once its shutdown is done
    assert exit_code in (0, -signal.SIGTERM), srv.log()[-3000:]
    engine = create_engine(to_sync_url(srv.settings.sqlalchemy_url))
    with engine.connect() as conn:
        state, left_at = conn.execute(text(
            "SELECT state, left_at FROM executors WHERE executor_id = :id"),
            {"id": srv.settings.executor_id}).one()
    engine.dispose()
    assert state == "gone" and left_at is not None  # it drained and left, not just died
