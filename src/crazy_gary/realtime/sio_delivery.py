"""socket.io broadcasts without a task per recipient, on python-socketio's public API.

python-socketio's `AsyncManager.emit` encodes a broadcast once and then starts one asyncio
task per recipient to hand it to engine.io. `FastEmitManager` is a client manager (the
library's extension point, `client_manager=`) whose `emit` does the same work in one
pass: it encodes the packet once and hands it to each participant with engine.io's public
`AsyncServer.send_packet`, which checks the socket's ping timeout and queues the packet
(engine.io's queues are unbounded, so this never waits on a slow client). A room with
nobody in it here costs no encoding. Emits with an ack callback take the library's own
path.

`RedisFastEmitManager` is `AsyncRedisManager` with the same local delivery: the pub/sub
manager delivers on this host through `super().emit`, which its MRO resolves to
`FastEmitManager.emit`; publishing to Redis and the other hosts' handling are the
library's. tests/realtime/test_sio_contract.py fails when any of this changes in the
library; what the pass buys, measured, is in docs/realtime.md.
"""

from __future__ import annotations

from typing import Any

import socketio
from engineio import packet as eio_packet
from socketio import packet as sio_packet

# The server class sockets.py builds: the library's own, unchanged.
FastSocketServer = socketio.AsyncServer


class FastEmitManager(socketio.AsyncManager):
    async def emit(self, event: str, data: Any, namespace: str, room: str | None = None,
                   skip_sid: str | list[str] | None = None, callback: Any = None,
                   to: str | None = None, **kwargs: Any) -> Any:
        if callback is not None:
            return await super().emit(event, data, namespace, room=room, skip_sid=skip_sid,
                                      callback=callback, to=to, **kwargs)
        room = to or room
        skip = skip_sid if isinstance(skip_sid, list) else [skip_sid]
        recipients = [eio_sid for sid, eio_sid in self.get_participants(namespace, room)
                      if sid not in skip]
        if not recipients:  # most events: nobody of that user is connected here
            return None
        if isinstance(data, tuple):
            args = list(data)
        elif data is not None:
            args = [data]
        else:
            args = []
        encoded = self.server.packet_class(
            sio_packet.EVENT, namespace=namespace, data=[event, *args]).encode()
        packets = [eio_packet.Packet(eio_packet.MESSAGE, part)
                   for part in (encoded if isinstance(encoded, list) else [encoded])]
        send_packet = self.server.eio.send_packet
        for eio_sid in recipients:
            for pkt in packets:  # binary attachments are several engine.io packets
                await send_packet(eio_sid, pkt)
        return None


class RedisFastEmitManager(socketio.AsyncRedisManager, FastEmitManager):
    """MRO: AsyncRedisManager, AsyncPubSubManager, FastEmitManager, AsyncManager."""
