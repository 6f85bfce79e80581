"""Several worker processes on PostgreSQL share the task queue; a restarted worker recovers."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from crazy_gary.config import Settings, to_sync_url
from tests.fakes.openai_standin import turn_of
from tests.support import ProcessServer, register, subprocess_env
from tests.tasks.helpers import (
    counter_lines,
    fresh_database,
    marker,
    process_env,
    tag,
    wait_final,
    wait_log,
)

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
pytestmark = pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs TEST_DATABASE_URL")


def executors(url: str) -> dict[str, str | None]:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, executor_id FROM tasks")).all()
    engine.dispose()
    return dict(rows)


def running_steps(engine, executor: str) -> dict[str, tuple[int, int]]:
    """The task workflows `executor` is running: id -> (model calls, tool calls) checkpointed.

    A step's row in DBOS's `operation_outputs` is written once its function returned, in the
    same process, before the workflow goes on: a step without its row is not done yet.
    """
    with engine.connect() as conn:
        rows = conn.execute(text("""
            SELECT ws.workflow_uuid,
                   count(oo.function_id) FILTER (WHERE oo.function_name = 'agent.model_call'),
                   count(oo.function_id) FILTER (WHERE oo.function_name = 'agent.tool_call')
            FROM dbos.workflow_status ws
            LEFT JOIN dbos.operation_outputs oo ON oo.workflow_uuid = ws.workflow_uuid
            WHERE ws.executor_id = :executor AND ws.status = 'PENDING'
              AND ws.name = 'crazy_gary.run_task'
            GROUP BY ws.workflow_uuid"""), {"executor": executor}).all()
    return {wf: (models, tools) for wf, models, tools in rows}


def tool_in_flight(steps: tuple[int, int]) -> bool:
    """Whether the task's one tool call may have run without its checkpoint.

    The script is plan, a tool call, the answer: after two model calls the next step is the
    tool call, and until its checkpoint is written the tally may or may not have happened
    (steps are at-least-once, docs/tasks.md), so a kill then would run it again.
    """
    models, tools = steps
    return models >= 2 and tools == 0


def safe_to_kill(steps: dict[str, tuple[int, int]]) -> bool:
    """The worker runs tasks, one of them past its (completed) tool call, none inside one."""
    return (any(tools for _, tools in steps.values())
            and not any(tool_in_flight(s) for s in steps.values()))


async def test_two_workers_share_tasks_and_a_restarted_worker_recovers(base_env, model_standin):
    url = fresh_database(TEST_DATABASE_URL, "workers")
    data_dir = Path(tempfile.mkdtemp(prefix="cg-workers-"))
    counter_file = data_dir / "counter.log"

    def env_for(executor: str) -> dict:
        env = process_env(base_env, model_standin, data_dir, counter_file, executor)
        # At most 3 running tasks a process (the per-user cap also bounds a process's share,
        # see tasks/queue.py) and two users of 3 tasks each: neither process can take all 6,
        # so both hold tasks at once.
        env.update(DATABASE_URL=url, TASK_WORKER_CONCURRENCY="3",
                   TASK_PER_USER_CONCURRENCY="3")
        return env

    api = ProcessServer(env_for("mw-api")).start()
    worker = ProcessServer(env_for("mw-worker"), command="worker").start()
    restarted = None
    scripts = [tag("mw") for _ in range(6)]
    for script in scripts:
        # by turn: a model request re-sent after the kill gets the reply it was sent for
        model_standin.script(script, [
            {"content": "1. tally\n2. answer"},
            {"tool_calls": [{"name": "counter__tally", "arguments": {"label": script}}]},
            {"content": f"done {script}", "delay": 2}], by="turn")
    sys_url = to_sync_url(Settings(DATABASE_URL=url).dbos_system_database_url)
    sys_engine = create_engine(sys_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        wait_log(worker, "worker mw-worker running")
        async with httpx.AsyncClient(base_url=api.url, timeout=30) as client:
            users = [await register(client), await register(client)]
            ids, owner_of = [], {}
            for n, script in enumerate(scripts):
                headers = users[n % 2].headers
                resp = await client.post("/api/tasks", headers=headers, json={
                    "title": script, "description": f"tally {marker(script)}",
                    "auto_start": True})
                ids.append(resp.json()["task_id"])
                owner_of[ids[-1]] = headers
            # wait until both processes hold running tasks, then kill the worker
            deadline = time.monotonic() + 60
            while True:
                owners = executors(url)
                if {"mw-api", "mw-worker"} <= set(owners.values()):
                    break
                assert time.monotonic() < deadline, owners
                await asyncio.sleep(0.1)
            # Kill the worker only where the exactly-once assertions below are sound: it runs
            # tasks, at least one of them past its completed (checkpointed) tool call, and no
            # tool call is in flight (one cut between the tally and its checkpoint would
            # rightly run again). The check runs with the worker stopped (SIGSTOP), so it
            # cannot move on between the check and the kill; if the moment is wrong, resume it.
            while True:
                if safe_to_kill(running_steps(sys_engine, "mw-worker")):
                    worker.proc.send_signal(signal.SIGSTOP)
                    at_kill = running_steps(sys_engine, "mw-worker")
                    if safe_to_kill(at_kill):
                        break
                    worker.proc.send_signal(signal.SIGCONT)
                assert time.monotonic() < deadline + 60, running_steps(sys_engine, "mw-worker")
                await asyncio.sleep(0.02)
            worker.kill()
            restarted = ProcessServer(env_for("mw-worker"), command="worker").start()
            tasks = [await wait_final(client, owner_of[task_id], task_id, within=120)
                     for task_id in ids]
    finally:
        sys_engine.dispose()
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
    # No completed call was repeated: every tool ran once (none was in flight at the kill),
    # and a model call was asked again only if it was not yet checkpointed at the kill.
    lines = counter_lines(counter_file)
    script_of = dict(zip(ids, scripts, strict=True))
    for task_id, script in script_of.items():
        assert lines.count(f"tally {script}") == 1, lines
        asked = Counter(turn_of(r["messages"]) for r in model_standin.requests(script))
        assert sorted(asked) == [0, 1, 2], (script, asked)
        done_at_kill = at_kill[task_id][0] if task_id in at_kill else 3
        assert all(n == 1 for turn, n in asked.items() if turn < done_at_kill), (script, asked)
        assert all(n <= 2 for n in asked.values()), (script, asked)


async def test_an_api_only_serve_leaves_every_task_to_the_workers(base_env, model_standin):
    url = fresh_database(TEST_DATABASE_URL, "apionly")
    data_dir = Path(tempfile.mkdtemp(prefix="cg-apionly-"))
    counter_file = data_dir / "counter.log"

    def env_for(executor: str, concurrency: str) -> dict:
        env = process_env(base_env, model_standin, data_dir, counter_file, executor)
        env.update(DATABASE_URL=url, TASK_WORKER_CONCURRENCY=concurrency)
        return env

    api = ProcessServer(env_for("ao-api", "0")).start()
    worker = None
    scripts = [tag("ao") for _ in range(3)]
    for script in scripts:
        model_standin.script(script, [{"content": "1. answer"}, {"content": f"done {script}"}])
    try:
        async with httpx.AsyncClient(base_url=api.url, timeout=30) as client:
            user = await register(client)
            ids = []
            for script in scripts:
                resp = await client.post("/api/tasks", headers=user.headers, json={
                    "title": script, "description": f"answer {marker(script)}",
                    "auto_start": True})
                assert resp.status_code == 201, resp.text
                ids.append(resp.json()["task_id"])
            # No worker yet: the API process accepts the tasks and runs none of them.
            await asyncio.sleep(3)
            waiting = [(await client.get(f"/api/tasks/{t}", headers=user.headers)).json()
                       for t in ids]
            assert [(t["status"], t["phase"]) for t in waiting] == [("running", "queued")] * 3
            assert model_standin.requests(scripts[0]) == []
            worker = ProcessServer(env_for("ao-worker", "10"), command="worker").start()
            tasks = [await wait_final(client, user.headers, t, within=60) for t in ids]
    finally:
        for proc in (api, worker):
            if proc is not None:
                proc.stop()
    assert [t["status"] for t in tasks] == ["completed"] * 3, tasks
    assert set(executors(url).values()) == {"ao-worker"}


def test_a_worker_refuses_to_run_nothing(base_env, model_standin, tmp_path):
    env = process_env(base_env, model_standin, tmp_path, tmp_path / "counter.log", "ao-none")
    env.update(DATABASE_URL=TEST_DATABASE_URL, TASK_WORKER_CONCURRENCY="0")
    done = subprocess.run([sys.executable, "-m", "crazy_gary", "worker"],
                          env=subprocess_env(env), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "TASK_WORKER_CONCURRENCY=0" in done.stdout
