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

import httpx
import pytest

from tests.support import register
from tests.tasks.helpers import (
    Cluster,
    asked_by_turn,
    counter_lines,
    script_tasks,
    tag,
    until,
    wait_final,
)
from tests.tasks.test_workers import running_steps, safe_to_kill

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
pytestmark = [pytest.mark.skipif(not TEST_DATABASE_URL,
                                 reason="two processes share work only on PostgreSQL"),
              pytest.mark.timeout(300)]  # two process starts: slow on a loaded machine


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
            # The survivor claims a process that said it left at its next beat, within
            # 10 s, whether or not the tasks it held are all final by then.
            claimed_by = await until(
                lambda: cluster.registry()[cluster.worker_id]["claimed_by"], within=10)
            admin = await cluster.admin(client)
            alerts = (await client.get("/api/monitoring/alerts?status=all",
                                       headers=admin.headers)).json()
    finally:
        cluster.stop()

    assert exit_code == 0, cluster.worker.log()[-3000:]
    # it said it left: marked gone by itself, then claimed by the survivor; no alert
    assert gone["state"] == "gone" and gone["left_at"] is not None, gone
    assert claimed_by == cluster.api_id
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
