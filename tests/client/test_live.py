"""Following live across a dropped connection, token refresh mid-session, retries, and the
synchronous client."""

from __future__ import annotations

import asyncio
import time

import pytest

from crazy_gary.client import AsyncClient, Client, RateLimited, RetryPolicy
from tests.client.helpers import logged_event_ids, signed_in
from tests.support import instance_server, unique_email
from tests.tasks.helpers import marker, tag

PLAN = {"content": "1. Write\n2. Write again\n3. Answer"}


def writing_script(script: str, delay: float = 0.3) -> list[dict]:
    """A task of several steps, spread out so a connection can drop between its events."""
    return [PLAN] + [
        {"tool_calls": [{"name": "workspace__write_file",
                         "arguments": {"path": f"{script}-{n}.txt", "content": str(n)}}],
         "delay": delay}
        for n in range(3)
    ] + [{"content": "Wrote three files.", "delay": delay}]


async def test_follow_survives_a_dropped_connection(server, user, model_standin):
    script = tag("cl-drop")
    model_standin.script(script, writing_script(script), by="turn")
    gary = await signed_in(server, user)
    try:
        received = []
        async with gary.events.subscribe() as sub:
            created = await gary.tasks.create("Drop", f"Write files. {marker(script)}",
                                              auto_start=True)
            async for event in gary.tasks.follow(created.task_id, subscription=sub):
                received.append(event)
                if len(received) == 3:
                    await sub.response.aclose()  # the connection drops mid-stream
            assert sub.connections == 2
        ids = [e.id for e in received]
        assert len(ids) == len(set(ids)), "an event was delivered twice"
        assert ids == await logged_event_ids(server, created.task_id), "an event was missed"
        assert received[-1].event == "task_completed"
        assert received[-1].data["status"] == "completed"
        assert len(ids) > 6  # events arrived after the drop, some replayed, some live
    finally:
        await gary.aclose()


async def test_replay_from_an_event_id(server, user, model_standin):
    script = tag("cl-replay")
    model_standin.script(script, [{"content": "1. Answer"}, {"content": "Done."}])
    gary = await signed_in(server, user)
    try:
        async with gary.events.subscribe() as sub:
            created = await gary.tasks.create("Replay", f"Go. {marker(script)}",
                                              auto_start=True)
            first = [e async for e in gary.tasks.follow(created.task_id, subscription=sub)]
        again = [e async for e in gary.tasks.follow(created.task_id, after=first[0].id - 1)]
        assert [e.id for e in again] == [e.id for e in first]
    finally:
        await gary.aclose()


@pytest.fixture(scope="module")
def short_tokens():
    """An API instance whose access tokens expire after three seconds (JWT times are whole
    seconds, so a token lives between two and three)."""
    srv = instance_server(ACCESS_TOKEN_TTL_SECONDS=3)
    yield srv
    srv.stop()


async def test_expired_access_token_is_refreshed_once_and_the_call_retried(short_tokens):
    changes: list[tuple] = []
    async with AsyncClient(short_tokens.url, on_tokens=lambda t, r: changes.append((t, r))
                           ) as gary:
        await gary.auth.register(unique_email("short"), "Passw0rd-123")
        first_token, first_refresh = changes[-1]
        await asyncio.sleep(3.2)
        mes = await asyncio.gather(gary.auth.me(), gary.auth.me(), gary.auth.me())
        assert len({m.id for m in mes}) == 1
        assert len(changes) == 2, "concurrent expired calls share one refresh"
        assert changes[-1][0] != first_token and changes[-1][1] != first_refresh
        await asyncio.sleep(3.2)
        assert (await gary.auth.me()).id == mes[0].id
        assert len(changes) == 3

    # a client given only a refresh token (what the CLI stores) signs itself in
    async with AsyncClient(short_tokens.url, refresh_token=changes[-1][1]) as resumed:
        assert (await resumed.auth.me()).id == mes[0].id
        assert resumed.token is not None


@pytest.fixture(scope="module")
def limited():
    """An API instance allowing 2 general requests per 2 seconds."""
    srv = instance_server(RATE_LIMITS_ENABLED=True, RATE_LIMIT_GENERAL="2 per 2 seconds")
    yield srv
    srv.stop()


async def test_429_is_retried_after_retry_after_then_given_up(limited):
    retrying = AsyncClient(limited.url, retry=RetryPolicy(attempts=4, max_wait=10))
    async with retrying:
        await retrying.auth.register(unique_email("rl"), "Passw0rd-123")
        started = time.monotonic()
        for _ in range(4):
            await retrying.auth.me()
        assert time.monotonic() - started >= 1.0  # waited for the window instead of failing
    impatient = AsyncClient(limited.url, retry=RetryPolicy(attempts=1))
    async with impatient:
        await impatient.auth.register(unique_email("rl"), "Passw0rd-123")
        with pytest.raises(RateLimited) as limited_error:
            for _ in range(3):
                await impatient.auth.me()
        assert limited_error.value.code == "RATE_LIMIT_EXCEEDED"
        assert limited_error.value.retry_after and limited_error.value.request_id


async def test_sync_client_follows_a_task_across_a_drop(server, user, model_standin):
    script = tag("cl-sync")
    model_standin.script(script, writing_script(script, delay=0.2), by="turn")
    with Client(server.url) as gary:
        gary.auth.login(user.email, user.password)
        received = []
        with gary.events.subscribe() as sub:
            created = gary.tasks.create("Sync", f"Write. {marker(script)}", auto_start=True)
            for event in gary.tasks.follow(created.task_id, subscription=sub):
                received.append(event)
                if len(received) == 2:
                    sub.response.aclose()
        ids = [e.id for e in received]
        assert ids == await logged_event_ids(server, created.task_id)
        task = gary.tasks.get(created.task_id)
        assert task.status == "completed" and task.result["answer"] == "Wrote three files."
        assert [t.id for t in gary.tasks.iter(page_size=1)][0] == created.task_id
