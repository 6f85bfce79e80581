"""Schedules across processes: each tick fires once with two processes on one PostgreSQL
database; ticks missed while every process was down are not replayed, except the last one
for a catch-up schedule."""

from __future__ import annotations

import asyncio
import os
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.schedules.helpers import create_schedule, runs, wait_runs
from tests.support import ProcessServer, register
from tests.tasks.helpers import tag
from tests.tasks.test_durability import process_env, wait_final
from tests.tasks.test_workers import fresh_database

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


def server_env(base_env, model_standin, data_dir: Path, executor: str, **extra) -> dict:
    env = process_env(base_env, model_standin, data_dir, data_dir / "counter.log", executor)
    env.update(SCHEDULES_POLL_SECONDS="0.5", **extra)
    return env


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs TEST_DATABASE_URL")
async def test_each_tick_fires_once_with_two_processes(base_env, model_standin):
    url = fresh_database(TEST_DATABASE_URL, "schedules")
    data_dir = Path(tempfile.mkdtemp(prefix="cg-schedules-"))
    servers = [ProcessServer(server_env(base_env, model_standin, data_dir, f"sched-{n}",
                                        DATABASE_URL=url)) for n in ("a", "b")]
    try:
        for srv in servers:
            srv.start()
        async with httpx.AsyncClient(base_url=servers[0].url, timeout=30) as a, \
                httpx.AsyncClient(base_url=servers[1].url, timeout=30) as b:
            user = await register(a)
            schedule = await create_schedule(a, user, tag("twice"), overlap="allow")
            seen = await wait_runs(b, user, schedule["id"], 5, within=60)
            await b.patch(f"/api/schedules/{schedule['id']}", headers=user.headers,
                          json={"enabled": False})
            seen = await runs(a, user, schedule["id"])
            ticks = [r["scheduled_for"] for r in seen]
            assert len(ticks) == len(set(ticks)) >= 5
            assert all(r["status"] == "fired" for r in seen)
            # one task per tick, and no task of this schedule beyond those
            task_ids = {r["task_id"] for r in seen}
            assert len(task_ids) == len(seen)
            listed = (await a.get("/api/tasks?limit=100", headers=user.headers)).json()
            assert {t["id"] for t in listed} == task_ids
            for task_id in task_ids:
                task = await wait_final(b, user.headers, task_id)
                assert task["status"] == "completed"
                assert task["schedule_id"] == schedule["id"]
    finally:
        for srv in servers:
            srv.stop()


async def test_missed_ticks_are_replayed_only_for_catch_up_and_only_the_last(
        base_env, model_standin):
    data_dir = Path(tempfile.mkdtemp(prefix="cg-catch-up-"))
    env = server_env(base_env, model_standin, data_dir, "catch-up")
    srv = ProcessServer(env).start()
    try:
        async with httpx.AsyncClient(base_url=srv.url, timeout=30) as client:
            user = await register(client)
            # two ticks a few seconds ahead, both falling while the process is down
            first = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=8)
            if first.second > 57:  # both in one minute
                first += timedelta(seconds=60 - first.second)
            second = first + timedelta(seconds=2)
            # these two instants only (once a year): nothing fires live after the restart
            expression = (f"{first.second},{second.second} {first.minute} {first.hour} "
                          f"{first.day} {first.month} *")
            kept = await create_schedule(client, user, tag("kept"), cron=expression,
                                         catch_up=True)
            dropped = await create_schedule(client, user, tag("dropped"), cron=expression)
        srv.stop()
        # down until both ticks have passed
        await asyncio.sleep(max(0.0, (second - datetime.now(UTC)).total_seconds() + 1))
        srv = ProcessServer(env, port=srv.port).start()
        async with httpx.AsyncClient(base_url=srv.url, timeout=30) as client:
            client.headers.update(user.headers)
            (run,) = await wait_runs(client, user, kept["id"], 1, within=30)
            assert datetime.fromisoformat(run["scheduled_for"]) == second
            assert run["status"] == "fired"
            task = await wait_final(client, user.headers, run["task_id"])
            assert task["status"] == "completed"
            # the other schedule fired nothing for the ticks it missed
            assert await runs(client, user, dropped["id"]) == []
            assert len(await runs(client, user, kept["id"])) == 1
    finally:
        srv.stop()


