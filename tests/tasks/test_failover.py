"""Failover and drain between real processes on PostgreSQL (+ Redis when configured).

An API process and a worker share the task queue. A worker killed with SIGKILL is declared
dead after EXECUTOR_DEAD_AFTER_SECONDS and its tasks finish on the survivor, without any
completed model or tool call sent again; one that drains on SIGTERM lets its calls in flight
finish and its unfinished tasks are resumed at once; one that was declared dead and comes
back (it had been paused) sends nothing more and stops.
"""

from __future__ import annotations

import asyncio
import os
import signal
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from crazy_gary.config import Settings, to_sync_url
from tests.fakes.openai_standin import turn_of
from tests.support import ProcessServer, login, register
from tests.tasks.helpers import counter_lines, marker, tag
from tests.tasks.test_durability import process_env, wait_final
from tests.tasks.test_workers import fresh_database, running_steps, safe_to_kill, wait_log

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")
pytestmark = [pytest.mark.skipif(not TEST_DATABASE_URL,
                                 reason="two processes share work only on PostgreSQL"),
              pytest.mark.timeout(300)]  # two process starts: slow on a loaded machine
ADMIN_PASSWORD = "Adm1n-password-failover"


class Cluster:
    """An API process (`<name>-api`) and a worker (`<name>-worker`) on a fresh database."""

    def __init__(self, base_env: dict, model_standin, name: str) -> None:
        self.name = name
        self.url = fresh_database(TEST_DATABASE_URL, name)
        self.data_dir = Path(tempfile.mkdtemp(prefix=f"cg-{name}-"))
        self.counter_file = self.data_dir / "counter.log"
        self.base_env, self.standin = base_env, model_standin
        self.api_id, self.worker_id = f"{name}-api", f"{name}-worker"
        self.api = ProcessServer(self.env_for(self.api_id))
        self.worker = ProcessServer(self.env_for(self.worker_id), command="worker")
        sys_url = to_sync_url(Settings(DATABASE_URL=self.url).dbos_system_database_url)
        self.sys_engine = create_engine(sys_url.replace("postgresql://",
                                                        "postgresql+psycopg://"))
        self.engine = create_engine(self.url.replace("postgresql://", "postgresql+psycopg://"))

    def env_for(self, executor: str) -> dict:
        env = process_env(self.base_env, self.standin, self.data_dir, self.counter_file,
                          executor)
        # Two users of up to 3 running tasks each, 3 a process: both processes hold tasks.
        env.update(DATABASE_URL=self.url, TASK_WORKER_CONCURRENCY="3",
                   TASK_PER_USER_CONCURRENCY="3", EXECUTOR_DEAD_AFTER_SECONDS="3",
                   SHUTDOWN_GRACE_SECONDS="20", REDIS_URL=TEST_REDIS_URL or "")
        return env

    def start(self) -> Cluster:
        self.api.start()
        self.worker.start()
        wait_log(self.worker, f"worker {self.worker_id} running")
        return self

    def stop(self) -> None:
        for proc in (self.api, self.worker):
            if proc.proc is not None and proc.proc.poll() is None:
                proc.proc.send_signal(signal.SIGCONT)
            proc.stop()
        self.sys_engine.dispose()
        self.engine.dispose()

    def registry(self) -> dict[str, dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(text("SELECT * FROM executors")).mappings().all()
        return {row["executor_id"]: dict(row) for row in rows}

    def error_messages(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(text("SELECT message FROM error_logs")).scalars())

    def final_executors(self, ids: list[str]) -> set[str]:
        with self.sys_engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT executor_id FROM dbos.workflow_status WHERE workflow_uuid = ANY(:ids)"),
                {"ids": ids}).all()
        return {row[0] for row in rows}

    async def admin(self, client: httpx.AsyncClient):
        """An administrator of this cluster's database, made as create-admin makes one."""
        from crazy_gary.users.bootstrap import ensure_admin  # after the session's settings

        email = f"admin-{self.name}@example.com"
        await ensure_admin(Settings(DATABASE_URL=self.url), email=email,
                           password=ADMIN_PASSWORD, name="Admin")
        return await login(client, email, ADMIN_PASSWORD)

    async def start_tasks(self, client: httpx.AsyncClient, scripts: list[str]):
        users = [await register(client), await register(client)]
        owner_of = {}
        for n, script in enumerate(scripts):
            headers = users[n % 2].headers
            resp = await client.post("/api/tasks", headers=headers, json={
                "title": script, "description": f"tally {marker(script)}", "auto_start": True})
            assert resp.status_code == 201, resp.text
            owner_of[resp.json()["task_id"]] = headers
        return owner_of


def script_tasks(model_standin, scripts: list[str], *, answer_delay: float = 0,
                 act_delay: float = 0) -> None:
    """Plan, one tally tool call, the answer; replies keyed on the conversation (turn), so
    a request sent again gets the reply it was sent for."""
    for script in scripts:
        model_standin.script(script, [
            {"content": "1. tally\n2. answer"},
            {"tool_calls": [{"name": "counter__tally", "arguments": {"label": script}}],
             "delay": act_delay},
            {"content": f"done {script}", "delay": answer_delay}], by="turn")


def asked_by_turn(model_standin, script: str) -> Counter:
    return Counter(turn_of(r["messages"]) for r in model_standin.requests(script))


async def until(check, within: float = 60, every: float = 0.05):
    deadline = time.monotonic() + within
    while not (result := check()):
        assert time.monotonic() < deadline, "condition never held"
        await asyncio.sleep(every)
    return result


async def test_sigkilled_worker_tasks_finish_on_the_survivor(base_env, model_standin):
    cluster = Cluster(base_env, model_standin, "fo-kill")
    scripts = [tag("fok") for _ in range(6)]
    script_tasks(model_standin, scripts, answer_delay=2)
    try:
        cluster.start()
        async with httpx.AsyncClient(base_url=cluster.api.url, timeout=30) as client:
            owner_of = await cluster.start_tasks(client, scripts)
            ids = list(owner_of)
            # Kill the worker where exactly-once is checkable (see test_workers.py): it runs
            # tasks, one past its completed tool call, none inside one; checked while stopped.
            while True:
                await until(lambda: safe_to_kill(running_steps(cluster.sys_engine,
                                                               cluster.worker_id)), every=0.02)
                cluster.worker.proc.send_signal(signal.SIGSTOP)
                at_kill = running_steps(cluster.sys_engine, cluster.worker_id)
                if safe_to_kill(at_kill):
                    break
                cluster.worker.proc.send_signal(signal.SIGCONT)
            cluster.worker.kill()  # and never restarted
            tasks = [await wait_final(client, owner_of[i], i, within=90) for i in ids]
            admin = await cluster.admin(client)
            view = (await client.get("/api/monitoring/cluster", headers=admin.headers)).json()
            someone = await register(client)
            forbidden = await client.get("/api/monitoring/cluster", headers=someone.headers)
            alerts = (await client.get("/api/monitoring/alerts?status=all",
                                       headers=admin.headers)).json()
            incidents = (await client.get("/api/monitoring/incidents",
                                          headers=admin.headers)).json()
            incident = (await client.get(f"/api/monitoring/incidents/{incidents[0]['id']}",
                                         headers=admin.headers)).json() if incidents else {}
    finally:
        cluster.stop()

    assert [t["status"] for t in tasks] == ["completed"] * 6, tasks
    assert [t["result"]["answer"] for t in tasks] == [f"done {s}" for s in scripts]
    # the worker's unfinished workflows were taken over: all of them ended on the survivor
    assert cluster.final_executors([i for i in ids if i in at_kill]) == {cluster.api_id}
    # no completed call repeated: each tool ran once; a model turn was asked again only if
    # it was not checkpointed at the kill
    lines = counter_lines(cluster.counter_file)
    for task_id, script in zip(ids, scripts, strict=True):
        assert lines.count(f"tally {script}") == 1, lines
        asked = asked_by_turn(model_standin, script)
        assert sorted(asked) == [0, 1, 2], (script, asked)
        done_at_kill = at_kill[task_id][0] if task_id in at_kill else 3
        assert all(n == 1 for turn, n in asked.items() if turn < done_at_kill), (script, asked)
        assert all(n <= 2 for n in asked.values()), (script, asked)
    # the registry, the cluster route (admins only), the alert and its incident
    processes = {p["executor_id"]: p for p in view["processes"]}
    assert processes[cluster.worker_id]["state"] == "gone"
    assert processes[cluster.worker_id]["claimed_by"] == cluster.api_id
    assert processes[cluster.api_id]["state"] == "alive"
    assert processes[cluster.api_id]["role"] == "serve"
    assert processes[cluster.worker_id]["role"] == "worker"
    assert forbidden.status_code == 403
    lost = [a for a in alerts if a["type"] == "executor_lost"]
    assert len(lost) == 1 and cluster.worker_id in lost[0]["message"], alerts
    assert incident["title"] == f"Executor {cluster.worker_id} lost", incidents
    assert any("taken over by" in (e["note"] or "") for e in incident["timeline"]), incident


async def test_sigterm_drains_calls_in_flight_and_a_survivor_resumes_the_rest(
        base_env, model_standin):
    cluster = Cluster(base_env, model_standin, "fo-drain")
    scripts = [tag("fod") for _ in range(6)]
    script_tasks(model_standin, scripts, answer_delay=3)
    try:
        cluster.start()
        async with httpx.AsyncClient(base_url=cluster.api.url, timeout=30) as client:
            owner_of = await cluster.start_tasks(client, scripts)
            ids = list(owner_of)
            script_of = dict(zip(ids, scripts, strict=True))

            def answer_in_flight() -> set[str]:
                """Worker tasks whose (slow) answer call the stand-in is serving now."""
                steps = running_steps(cluster.sys_engine, cluster.worker_id)
                return {t for t, (models, tools) in steps.items()
                        if models == 2 and tools == 1
                        and asked_by_turn(model_standin, script_of[t])[2] == 1}

            in_flight = await until(answer_in_flight)
            cluster.worker.proc.send_signal(signal.SIGTERM)
            exit_code = await asyncio.to_thread(cluster.worker.proc.wait, 40)
            gone = cluster.registry()[cluster.worker_id]
            tasks = [await wait_final(client, owner_of[i], i, within=60) for i in ids]
            admin = await cluster.admin(client)
            alerts = (await client.get("/api/monitoring/alerts?status=all",
                                       headers=admin.headers)).json()
    finally:
        cluster.stop()

    assert exit_code == 0, cluster.worker.log()[-3000:]
    # it said it left: marked gone by itself, then claimed by the survivor; no alert
    assert gone["state"] == "gone" and gone["left_at"] is not None, gone
    assert cluster.registry()[cluster.worker_id]["claimed_by"] == cluster.api_id
    assert not [a for a in alerts if a["type"] == "executor_lost"], alerts
    assert [t["status"] for t in tasks] == ["completed"] * 6, tasks
    assert [t["result"]["answer"] for t in tasks] == [f"done {s}" for s in scripts]
    # the calls in flight finished and were checkpointed on the draining worker, nothing
    # was cut off: every call of every task was sent exactly once
    lines = counter_lines(cluster.counter_file)
    for script in scripts:
        assert lines.count(f"tally {script}") == 1, lines
        assert asked_by_turn(model_standin, script) == {0: 1, 1: 1, 2: 1}, script
    # the answers in flight at SIGTERM were the worker's to finish
    assert cluster.final_executors(sorted(in_flight)) == {cluster.worker_id}


async def test_a_process_declared_dead_that_comes_back_does_not_run_the_work(
        base_env, model_standin):
    cluster = Cluster(base_env, model_standin, "fo-back")
    scripts = [tag("fob") for _ in range(6)]
    # the acting call (turn 1) is slow: the worker is paused while it waits for it
    script_tasks(model_standin, scripts, act_delay=4)
    try:
        cluster.start()
        async with httpx.AsyncClient(base_url=cluster.api.url, timeout=30) as client:
            owner_of = await cluster.start_tasks(client, scripts)
            ids = list(owner_of)
            script_of = dict(zip(ids, scripts, strict=True))

            def acting_in_flight() -> set[str]:
                steps = running_steps(cluster.sys_engine, cluster.worker_id)
                return {t for t, (models, tools) in steps.items()
                        if models == 1 and asked_by_turn(model_standin, script_of[t])[1] == 1}

            held = await until(acting_in_flight)
            cluster.worker.proc.send_signal(signal.SIGSTOP)
            claimed = await until(
                lambda: cluster.registry()[cluster.worker_id]["claimed_by"], within=30)
            tasks = [await wait_final(client, owner_of[i], i, within=90) for i in ids]
            asked_before = {s: asked_by_turn(model_standin, s) for s in scripts}
            tallies_before = counter_lines(cluster.counter_file)
            cluster.worker.proc.send_signal(signal.SIGCONT)
            exit_code = await asyncio.to_thread(cluster.worker.proc.wait, 40)
            # anything it would still send has had time to arrive: the stand-in answers
            # at once after the worker's own slow call, which it was already serving
            await asyncio.sleep(1)
            asked_after = {s: asked_by_turn(model_standin, s) for s in scripts}
    finally:
        cluster.stop()

    assert claimed == cluster.api_id
    assert [t["status"] for t in tasks] == ["completed"] * 6, tasks
    assert cluster.final_executors(sorted(held)) == {cluster.api_id}
    # back from the pause, it found itself declared dead and stopped, sending nothing more
    assert exit_code == 0, cluster.worker.log()[-3000:]
    assert any(f"executor {cluster.worker_id} was declared dead" in message
               for message in cluster.error_messages()), cluster.error_messages()
    assert asked_after == asked_before
    assert counter_lines(cluster.counter_file) == tallies_before
    for script in scripts:
        assert tallies_before.count(f"tally {script}") == 1, tallies_before
