"""A local model server started and stopped as a real child process."""

from __future__ import annotations

import asyncio
import sys

import httpx

from tests.endpoints.helpers import events_named, last_event_id, wait_status
from tests.fakes.openai_standin import RemoteModelServer
from tests.support import REPO, free_port


def process_env(port: int) -> dict:
    command = f"cd {REPO} && exec {sys.executable} -m tests.fakes.openai_standin --port {port}"
    return {"MODEL_20B_COMMAND": command, "MODEL_20B_BASE_URL": f"http://127.0.0.1:{port}/v1"}


def answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


async def test_wake_starts_the_server_and_sleep_stops_it(server, lifecycle):
    port = free_port()
    manager, models = lifecycle(**process_env(port))
    assert not answers(port)

    async def wake_and_call():
        assert (await manager.status_one("20b"))["status"] == "sleeping"
        await manager.wake("20b")
        running = await wait_status(manager, "20b", "running", within=30)
        result = await models.chat("gpt-oss-20b", [{"role": "user", "content": "hi"}],
                                   allow_fallback=False)
        return running, result

    running, result = server.run_coro(wake_and_call(), timeout=60)
    assert answers(port)
    assert result.content == "Hello from the stand-in model." and result.model == "gpt-oss-20b"
    assert running["provider"] == "process"

    async def stop():
        await manager.sleep("20b")
        return await wait_status(manager, "20b", "sleeping", within=30)

    asleep = server.run_coro(stop(), timeout=60)
    assert asleep["sleep_time"] is not None
    assert not answers(port)


async def test_a_crashed_server_marks_the_endpoint_failed_and_raises_an_alert(server, lifecycle):
    port = free_port()
    manager, models = lifecycle(**process_env(port))

    async def scenario():
        first = await last_event_id()
        await manager.wake("20b")
        await wait_status(manager, "20b", "running", within=30)
        RemoteModelServer(port=port).exit(3)
        failed = await wait_status(manager, "20b", "failed", within=30)
        for _ in range(100):  # the alert follows the status change
            alerts = await events_named("system_alert", first)
            if alerts:
                break
            await asyncio.sleep(0.1)
        # The next call starts it again.
        result = await models.chat("gpt-oss-20b", [{"role": "user", "content": "again"}],
                                   allow_fallback=False)
        return failed, alerts, result

    failed, alerts, result = server.run_coro(scenario(), timeout=90)
    assert "code 3" in failed["last_error"]
    assert any(a["type"] == "endpoint_failed" and a["model_type"] == "20b" for a in alerts)
    assert result.content == "Hello from the stand-in model."
    assert answers(port)


async def test_a_server_that_never_answers_fails_the_wake(server, lifecycle):
    port = free_port()
    env = {"MODEL_20B_COMMAND": "sleep 60", "MODEL_20B_BASE_URL": f"http://127.0.0.1:{port}/v1",
           "ENDPOINT_WAKE_TIMEOUT_SECONDS": "1.5"}
    manager, _ = lifecycle(**env)

    async def scenario():
        await manager.wake("20b")
        return await wait_status(manager, "20b", "failed", within=30)

    failed = server.run_coro(scenario(), timeout=60)
    assert "did not answer" in failed["last_error"]


async def test_another_process_can_put_the_server_to_sleep(server, lifecycle):
    """A second manager on the same records (as in a second service process) stops the
    server by its recorded process group, and a wake during the stop waits for it."""
    port = free_port()
    owner, _ = lifecycle(**process_env(port))
    other, _ = lifecycle(**process_env(port))
    other.prefix = owner.prefix

    async def scenario():
        await owner.wake("20b")
        await wait_status(owner, "20b", "running", within=30)
        assert (await other.status_one("20b"))["status"] == "running"
        first = await last_event_id()
        await other.sleep("20b")
        asleep = await wait_status(other, "20b", "sleeping", within=30)
        gone = not answers(port)
        await asyncio.sleep(0.5)  # the owner notices its child exit: not a crash
        assert (await owner.status_one("20b"))["status"] == "sleeping"
        assert not await events_named("system_alert", first)
        # Wake while a sleep is under way: it is queued behind the stop, then runs.
        await owner.wake("20b")
        await wait_status(owner, "20b", "running", within=30)
        await owner.sleep("20b")
        assert await owner.wake("20b") is True
        return asleep, gone, await wait_status(owner, "20b", "running", within=30)

    asleep, gone, running = server.run_coro(scenario(), timeout=120)
    assert gone and asleep["sleep_time"]
    assert running["status"] == "running" and answers(port)
