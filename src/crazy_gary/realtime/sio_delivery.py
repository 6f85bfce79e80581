"""Cheaper socket.io delivery for broadcasts to many sockets (python-socketio 5 / engine.io 4).

The libraries' own path costs two asyncio tasks per recipient per event:
`AsyncManager.emit` starts a task per socket to call `send_packet`, and each socket's
writer waits for its queue through `asyncio.wait_for`, which wraps the queue read in
another task (Python 3.11). Here:

- `FastEmitManager.emit` encodes the packet once and puts it straight into each
  engine.io socket's queue (what `AsyncSocket.send` does, without its awaits); a socket
  that is closed or past its ping timeout goes through the library's own `send_packet`,
  so closing it stays the library's business. Emits with an ack callback or binary
  attachments take the library's path unchanged.
- `FastPollSocket.poll` waits for the queue with neither an extra task nor a timer per
  packet (the idle deadline is one self-re-arming timer).

`RedisFastEmitManager` is `AsyncRedisManager` with the same local delivery: its MRO puts
`FastEmitManager.emit` exactly where `AsyncPubSubManager` calls `super().emit` to deliver
on this host, so publishing to Redis and the other hosts' handling are unchanged.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import socketio
from engineio import exceptions as eio_exceptions
from engineio import packet as eio_packet
from engineio.async_socket import AsyncSocket
from socketio import packet as sio_packet


class FastPollSocket(AsyncSocket):
    """engine.io's socket whose writer waits for its queue without a task or a timer per
    packet. As in the library, a wait that sees no packet for ping_interval + ping_timeout
    (or is cancelled) raises QueueEmpty; the deadline is one timer per idle period that
    re-arms itself while packets keep coming."""

    _poll_task: asyncio.Task | None = None
    _poll_started = 0.0
    _poll_timer: asyncio.TimerHandle | None = None

    async def poll(self):
        loop = asyncio.get_running_loop()
        self._poll_started = loop.time()
        self._poll_task = asyncio.current_task()
        if self._poll_timer is None:
            self._poll_timer = loop.call_at(self._poll_started + self._poll_limit(),
                                            self._poll_deadline)
        try:
            packets = [await self.queue.get()]
            self.queue.task_done()
        except asyncio.CancelledError:  # the deadline, or a cancel (the library swallows both)
            raise eio_exceptions.QueueEmpty() from None
        finally:
            self._poll_task = None
        if packets == [None]:
            return []
        while True:
            try:
                pkt = self.queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            self.queue.task_done()
            if pkt is None:
                self.queue.put_nowait(None)
                break
            packets.append(pkt)
        return packets

    def _poll_limit(self) -> float:
        return self.server.ping_interval + self.server.ping_timeout

    def _poll_deadline(self) -> None:
        self._poll_timer = None
        task = self._poll_task
        if task is None:  # not waiting now; the next poll re-arms
            return
        loop = asyncio.get_running_loop()
        remaining = self._poll_started + self._poll_limit() - loop.time()
        if remaining > 0:
            self._poll_timer = loop.call_later(remaining, self._poll_deadline)
        else:
            task.cancel()


class FastEmitManager(socketio.AsyncManager):
    async def emit(self, event, data, namespace, room=None, skip_sid=None, callback=None,
                   to=None, **kwargs):
        if callback is not None or self.server is None:
            return await super().emit(event, data, namespace, room=room, skip_sid=skip_sid,
                                      callback=callback, to=to, **kwargs)
        room = to or room
        if namespace not in self.rooms:
            return None
        if isinstance(data, tuple):
            args = list(data)
        elif data is not None:
            args = [data]
        else:
            args = []
        encoded = self.server.packet_class(
            sio_packet.EVENT, namespace=namespace, data=[event, *args]).encode()
        if isinstance(encoded, list):  # binary attachments: several engine.io packets
            return await super().emit(event, data, namespace, room=room, skip_sid=skip_sid,
                                      to=to, **kwargs)
        pkt = eio_packet.Packet(eio_packet.MESSAGE, encoded)
        skip = skip_sid if isinstance(skip_sid, list) else [skip_sid]
        eio = self.server.eio
        sockets = eio.sockets
        ping_timeout = eio.ping_timeout
        now = time.time()
        slow: list[Any] = []
        for sid, eio_sid in self.get_participants(namespace, room):
            if sid in skip:
                continue
            sock = sockets.get(eio_sid)
            if (sock is None or sock.closed
                    or (sock.last_ping and now - sock.last_ping > ping_timeout)):
                slow.append(eio_sid)  # let the library log, close or drop it
            else:
                sock.queue.put_nowait(pkt)  # engine.io queues are unbounded
        for eio_sid in slow:
            await eio.send_packet(eio_sid, pkt)
        return None


class RedisFastEmitManager(socketio.AsyncRedisManager, FastEmitManager):
    """MRO: AsyncRedisManager, AsyncPubSubManager, FastEmitManager, AsyncManager."""


class FastSocketServer(socketio.AsyncServer):
    """Gives each new engine.io socket the task-free `poll` (before its writer starts)."""

    async def _handle_eio_connect(self, eio_sid, environ):
        sock = self.eio.sockets.get(eio_sid)
        if sock is not None and type(sock) is AsyncSocket:
            sock.__class__ = FastPollSocket  # same state, one overridden method
        return await super()._handle_eio_connect(eio_sid, environ)
