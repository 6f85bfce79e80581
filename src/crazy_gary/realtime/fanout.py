"""Fan-out of logged events: in process, through Redis pub/sub, and to socket.io rooms.

Embedded: the publishing process delivers to its own SSE subscribers and sockets.
Scaled out (REDIS_URL): the event also goes to `<namespace>:events`; every other
process delivers it to its SSE subscribers; socket.io's AsyncRedisManager carries the
emit to sockets connected to any process. A Redis outage never fails a publish: the
event is already in the log, and reconnecting SSE clients replay it from there.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections import deque
from typing import Any

from crazy_gary import runtime
from crazy_gary.config import Settings
from crazy_gary.realtime.broker import LocalBroker, PublishedEvent

log = logging.getLogger(__name__)

REDIS_TIMEOUT = 2.0


class RecentIds:
    """The ids of the last `size` events fanned out here: an event that reaches this process
    twice (relayed after its publisher died unmarked, or back through Redis) goes out once."""

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self.ids: set[int] = set()
        self.order: deque[int] = deque()

    def add(self, event_id: int) -> bool:
        """True the first time an id is seen."""
        if event_id in self.ids:
            return False
        self.ids.add(event_id)
        self.order.append(event_id)
        if len(self.order) > self.size:
            self.ids.discard(self.order.popleft())
        return True


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


class Fanout:
    """One per process, on its runtime; started and stopped with it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.origin = uuid.uuid4().hex
        self.broker = LocalBroker()  # this process's SSE subscribers
        self.channel = f"{settings.redis_namespace}:events"
        self.socket_servers: list[Any] = []  # socketio.AsyncServer(s) built in this process
        self.emitter: Any = None  # write-only manager when no socket server runs here
        self.redis: Any = None
        self._listener: asyncio.Task[None] | None = None
        self.started = False
        self.recent = RecentIds()
        self.delivered: list[int] = []  # fanned out, not yet marked in the log (outbox.Relay)

    def add_socket_server(self, sio: Any) -> None:
        self.socket_servers.append(sio)

    async def start(self) -> None:
        if self.started:
            return
        self.started = True
        if not self.settings.redis_url:
            return
        import redis.asyncio as aioredis  # deferred: loaded only when Redis is configured

        self.redis = aioredis.Redis.from_url(
            self.settings.redis_url, socket_connect_timeout=REDIS_TIMEOUT,
            socket_timeout=None, health_check_interval=15)
        self._listener = asyncio.create_task(self._listen(), name="realtime-redis-listener")
        if not self.socket_servers:
            import socketio  # deferred: a Redis emitter only in a process without sockets

            self.emitter = socketio.AsyncRedisManager(
                self.settings.redis_url, channel=f"{self.settings.redis_namespace}:socketio",
                write_only=True)

    async def stop(self) -> None:
        if self._listener:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
            self._listener = None
        if self.redis is not None:
            await self.redis.aclose()
            self.redis = None
        self.started = False

    async def part(self) -> None:
        """The process is leaving: SSE streams end with a `reconnect` event; socket.io
        clients get a `reconnect` event and their transport is closed, so they reconnect
        (to another process) instead of seeing a reset."""
        self.broker.part_all()
        for sio in self.socket_servers:
            namespaces = list(sio.manager.rooms)
            for namespace in namespaces:
                await sio.emit("reconnect", {"reason": "server_draining"},
                               namespace=namespace, ignore_queue=True)
            for namespace in namespaces:
                for _, eio_sid in list(sio.manager.get_participants(namespace, None)):
                    await sio.eio.disconnect(eio_sid)

    async def send(self, event: PublishedEvent, *, mark: bool = True) -> None:
        """Deliver everywhere, once per event id; never raises. `mark`: note the id for the
        relay to mark the row published (a relayed row is marked already)."""
        if not self.recent.add(event.id):
            return
        if mark:
            self.delivered.append(event.id)
        self.broker.deliver(event)
        await self._emit_socket(event)
        if self.redis is not None:
            payload = json.dumps({"origin": self.origin, "event": event.to_wire()},
                                 default=str)
            try:
                await asyncio.wait_for(self.redis.publish(self.channel, payload), REDIS_TIMEOUT)
            except Exception as exc:  # Redis down: the event stays in the log for replay
                log.warning("event %s not sent through Redis: %s", event.id, exc)

    async def _emit_socket(self, event: PublishedEvent) -> None:
        if self.settings.redis_url:
            # One emit: the Redis manager carries it to every server, here and elsewhere.
            targets = self.socket_servers[:1] or ([self.emitter] if self.emitter else [])
        else:
            targets = self.socket_servers
        room = user_room(event.user_id) if event.user_id is not None else None
        for target in targets:
            try:
                await asyncio.wait_for(
                    target.emit(event.event, event.data, room=room, namespace="/"),
                    REDIS_TIMEOUT)
            except Exception as exc:
                log.warning("event %s not emitted to sockets: %s", event.id, exc)

    async def _listen(self) -> None:
        """Deliver other processes' events to this process's SSE subscribers."""
        delay = 0.5
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                delay = 0.5
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    self._on_message(message["data"])
            except asyncio.CancelledError:
                await asyncio.shield(pubsub.aclose())
                raise
            except Exception as exc:
                log.warning("Redis event listener lost its connection (%s); retrying", exc)
                await pubsub.aclose()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)

    def _on_message(self, raw: bytes | str) -> None:
        try:
            msg = json.loads(raw)
            if msg.get("origin") == self.origin:
                return
            event = PublishedEvent.from_wire(msg["event"])
            if self.recent.add(event.id):
                self.broker.deliver(event)
        except Exception:
            log.warning("malformed event on %s", self.channel, exc_info=True)


async def get_fanout() -> Fanout:
    """The running runtime's fan-out (started with it)."""
    return runtime.current().fanout
