"""The event log is an outbox: a change and its event commit together; fan-out follows the
commit; a row committed by a process that died before fanning it out is relayed."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy import func, select

from tests.realtime.helpers import SSEReader
from tests.tasks.helpers import create

STREAM = "/api/observability/events/stream"


class Injected(RuntimeError):
    pass


async def _create_then_fail(user_id: int, title: str) -> str:
    """A task created with its event in one session, then a failure before the commit."""
    from crazy_gary.db import session_scope
    from crazy_gary.tasks import service
    from crazy_gary.tasks.schemas import TaskCreate

    task_id = None
    try:
        async with session_scope() as session:
            task = await service.create_task(
                session, user_id=user_id, data=TaskCreate(title=title, description="x"))
            task_id = task.id
            await session.flush()  # the state and the event row are written...
            raise Injected  # ...and the process fails before the commit
    except Injected:
        pass
    return task_id


async def _rows(task_id: str) -> tuple[int, int]:
    from crazy_gary.db import session_scope
    from crazy_gary.realtime.models import Event
    from crazy_gary.tasks.models import Task

    async with session_scope() as session:
        tasks = await session.scalar(select(func.count()).select_from(Task)
                                     .where(Task.id == task_id))
        events = [e for e in await session.scalars(select(Event).order_by(Event.id.desc())
                                                   .limit(500))
                  if e.data.get("task_id") == task_id]
    return tasks, len(events)


async def _event(event_id: int):
    from crazy_gary.db import session_scope
    from crazy_gary.realtime.models import Event

    async with session_scope() as session:
        return await session.get(Event, event_id)


async def _insert_unpublished(user_id: int, data: dict) -> int:
    """A committed row nobody fanned out, as a process killed right after its commit
    leaves it (no after-commit job: it died)."""
    from crazy_gary.db import session_scope, utcnow
    from crazy_gary.realtime.models import Event

    async with session_scope() as session:
        row = Event(event="task_update", data=data, user_id=user_id,
                    created_at=utcnow() - timedelta(seconds=60))
        session.add(row)
        await session.flush()
        return row.id


async def _send_again(event_id: int) -> None:
    from crazy_gary.realtime.fanout import get_fanout
    from crazy_gary.realtime.outbox import to_published

    await (await get_fanout()).send(to_published(await _event(event_id)))


async def test_a_failure_before_the_commit_leaves_neither_change_nor_event(server, user):
    title = f"never-{uuid.uuid4().hex[:8]}"
    async with SSEReader(server.url + STREAM, token=user.token) as reader:
        task_id = await asyncio.to_thread(server.run_coro, _create_then_fail(user.id, title))
        assert task_id is not None
        assert await asyncio.to_thread(server.run_coro, _rows(task_id)) == (0, 0)
        await asyncio.sleep(0.3)
        assert not [f for f in reader.frames if f["data"].get("task_id") == task_id]


async def test_a_change_commits_with_its_event_and_is_marked_once_fanned_out(
        server, client, user):
    async with SSEReader(server.url + STREAM, token=user.token) as reader:
        task_id = await create(client, user, title="outbox")
        frame = await reader.wait_for(lambda f: f["event"] == "task_created"
                                      and f["data"].get("task_id") == task_id)
    assert await asyncio.to_thread(server.run_coro, _rows(task_id)) == (1, 1)
    for _ in range(50):  # marked by the next batched write (about a second)
        row = await asyncio.to_thread(server.run_coro, _event(frame["id"]))
        if row.published_at is not None:
            break
        await asyncio.sleep(0.1)
    assert row.published_at is not None and row.published_at >= row.created_at


async def test_an_event_a_dead_process_never_fanned_out_is_relayed_and_replayed(
        server, user, settings):
    tag = uuid.uuid4().hex
    async with SSEReader(server.url + STREAM, token=user.token) as live:
        event_id = await asyncio.to_thread(
            server.run_coro, _insert_unpublished(user.id, {"task_id": tag, "status": "running"}))
        frame = await live.wait_for(lambda f: f["id"] == event_id,
                                    within=settings.events_relay_seconds * 2 + 5)
        assert frame["data"]["task_id"] == tag
        row = await asyncio.to_thread(server.run_coro, _event(event_id))
        assert row.published_at is not None  # claimed: no other relay sends it again
        # Sent again (a second relay, an echo through Redis): clients still get it once.
        await asyncio.to_thread(server.run_coro, _send_again(event_id))
        await asyncio.sleep(0.3)
        assert [f["id"] for f in live.frames if f["data"].get("task_id") == tag] == [event_id]
    async with SSEReader(server.url + STREAM, token=user.token,
                         last_event_id=event_id - 1) as replay:
        await replay.wait_for(lambda f: f["id"] == event_id)


class _RecordingFanout:
    """Stands in for a process's fan-out: remembers what its relay sent."""

    def __init__(self) -> None:
        self.delivered: list[int] = []
        self.sent: list[int] = []

    async def send(self, event, *, mark: bool = True) -> None:
        self.sent.append(event.id)


async def _race_two_relays(user_id: int, tag: str) -> tuple[list[int], list[int], list[int]]:
    from crazy_gary.db import get_database
    from crazy_gary.realtime.outbox import Relay

    ids = [await _insert_unpublished(user_id, {"task_id": tag, "n": n}) for n in range(40)]
    first, second = _RecordingFanout(), _RecordingFanout()
    relays = [Relay(get_database(), fanout, interval=1.0) for fanout in (first, second)]
    await asyncio.gather(*(relay.relay_unmarked() for relay in relays))
    return ids, first.sent, second.sent


async def test_two_relays_never_send_the_same_row(server, user):
    tag = uuid.uuid4().hex
    ids, first, second = await asyncio.to_thread(server.run_coro,
                                                 _race_two_relays(user.id, tag))
    assert not set(first) & set(second)
    assert len(first) == len(set(first)) and len(second) == len(set(second))
    for event_id in ids:  # each row claimed by one of them (or the server's own relay)
        assert (await asyncio.to_thread(server.run_coro, _event(event_id))).published_at
