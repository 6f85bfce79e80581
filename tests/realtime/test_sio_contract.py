"""What `realtime/sio_delivery.py` relies on in python-socketio and python-engineio.

Each test names one thing the one-pass broadcast uses; when an upgrade changes it, the
failure says which, before any socket misses an event.
"""

from __future__ import annotations

import inspect
import json

import engineio
import socketio
from engineio import packet as eio_packet
from socketio import packet as sio_packet
from socketio.async_pubsub_manager import AsyncPubSubManager

from crazy_gary.realtime.sio_delivery import (
    FastEmitManager,
    FastSocketServer,
    RedisFastEmitManager,
)


def _parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_our_emit_overrides_the_managers_emit_with_the_same_signature():
    expected = ["self", "event", "data", "namespace", "room", "skip_sid", "callback", "to",
                "kwargs"]
    assert _parameters(socketio.AsyncManager.emit) == expected
    assert _parameters(FastEmitManager.emit) == expected
    assert inspect.iscoroutinefunction(socketio.AsyncManager.emit)


def test_the_server_delivers_through_its_client_manager():
    manager = FastEmitManager()
    server = FastSocketServer(async_mode="asgi", client_manager=manager)
    assert server is manager.server and server.manager is manager
    assert isinstance(server.eio, engineio.AsyncServer)


def test_engineio_send_packet_is_public_and_takes_a_sid_and_a_packet():
    assert _parameters(engineio.AsyncServer.send_packet) == ["self", "sid", "pkt"]
    assert inspect.iscoroutinefunction(engineio.AsyncServer.send_packet)


async def test_participants_are_sid_and_engineio_sid_pairs_from_a_copy():
    manager = FastEmitManager()
    FastSocketServer(async_mode="asgi", client_manager=manager)
    sid = await manager.connect("eio-1", "/")
    await manager.enter_room(sid, "/", "user:1")
    participants = manager.get_participants("/", "user:1")
    assert next(participants) == (sid, "eio-1")
    await manager.leave_room(sid, "/", "user:1")  # a copy: leaving mid-loop is safe
    assert list(participants) == []
    assert list(manager.get_participants("/nowhere", "user:1")) == []


def test_packets_encode_once_as_text_or_as_binary_parts():
    server = FastSocketServer(async_mode="asgi")
    text = server.packet_class(sio_packet.EVENT, namespace="/",
                               data=["task_update", {"id": 1}]).encode()
    assert isinstance(text, str) and json.loads(text[1:]) == ["task_update", {"id": 1}]
    binary = server.packet_class(sio_packet.EVENT, namespace="/",
                                 data=["blob", {"raw": b"\x00"}]).encode()
    assert isinstance(binary, list) and binary[1] == b"\x00"
    assert eio_packet.Packet(eio_packet.MESSAGE, text).encode() == "4" + text


def test_redis_manager_delivers_locally_through_the_next_emit_in_its_mro():
    """`AsyncPubSubManager` hands an emit to this host's sockets with `super().emit`, which
    resolves to `FastEmitManager.emit` only with this MRO."""
    assert RedisFastEmitManager.__mro__[1:5] == (
        socketio.AsyncRedisManager, AsyncPubSubManager, FastEmitManager,
        socketio.AsyncManager)
    handle_emit = inspect.getsource(AsyncPubSubManager._handle_emit)
    assert "await super().emit(" in handle_emit
    assert "await self._handle_emit(message)" in inspect.getsource(
        AsyncPubSubManager.emit)
