"""A rolling restart on PostgreSQL: every process in turn drained (SIGTERM) and replaced by a
new one under a new executor id while tasks run. No task is lost and no completed model or
tool call is sent again (docs/scaling.md, "Graceful drain")."""

from __future__ import annotations

import asyncio
import os
import signal

import httpx
import pytest

from tests.tasks.helpers import (
    Cluster,
    asked_by_turn,
    counter_lines,
    script_tasks,
    tag,
    until,
    wait_final,
)
from tests.tasks.test_workers import running_steps

pytestmark = [pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"),
                                 reason="processes share work only on PostgreSQL"),
              pytest.mark.timeout(300)]  # four process starts: slow on a loaded machine

# worker, API, worker, API: each process of the cluster is replaced twice over.
ROUNDS = ("worker", "api", "worker", "api")


def past_their_plan(cluster: Cluster, executor: str) -> dict[str, tuple[int, int]]:
    """The tasks `executor` runs, if one of them has its plan (a model call) recorded: that
    call must not be sent again by the process that finishes the task."""
    held = running_steps(cluster.sys_engine, executor)
    return held if any(models for models, _ in held.values()) else {}


async def test_a_rolling_restart_loses_no_task_and_repeats_no_call(base_env, model_standin):
    cluster = Cluster(base_env, model_standin, "rolling")
    scripts: list[str] = []
    owner_of: dict[str, dict] = {}
    left: list[tuple[str, int | None, dict]] = []  # (executor, exit code, tasks it held)
    try:
        cluster.start()
        for n, role in enumerate(ROUNDS, start=1):
            # Fresh work each round (two new users of 3 tasks, slow model replies), so the
            # process about to leave is running some of it when it is told to.
            batch = [tag("roll") for _ in range(6)]
            script_tasks(model_standin, batch, act_delay=1.5, answer_delay=1.5)
            scripts += batch
            async with httpx.AsyncClient(base_url=cluster.api.url, timeout=30) as client:
                owner_of.update(await cluster.start_tasks(client, batch))
            leaving = cluster.api if role == "api" else cluster.worker
            leaving_id = cluster.api_id if role == "api" else cluster.worker_id
            held = await until(lambda executor=leaving_id: past_their_plan(cluster, executor),
                               within=60)
            leaving.proc.send_signal(signal.SIGTERM)
            code = await asyncio.to_thread(leaving.proc.wait, 40)
            left.append((leaving_id, code, held))
            await asyncio.to_thread(cluster.launch, role, f"rolling-{role}-{n}")
        async with httpx.AsyncClient(base_url=cluster.api.url, timeout=30) as client:
            tasks = [await wait_final(client, headers, task_id, within=90)
                     for task_id, headers in owner_of.items()]
        registry = cluster.registry()
    finally:
        cluster.stop()

    # every process left cleanly while it ran tasks, and a survivor took its leftovers (a
    # worker exits 0; `serve` re-raises the SIGTERM after its shutdown, as uvicorn does)
    assert [code for _, code, _ in left] == [
        0 if role == "worker" else -signal.SIGTERM for role in ROUNDS], left
    for executor, _, _ in left:
        assert registry[executor]["state"] == "gone", registry[executor]
        assert registry[executor]["left_at"] is not None, registry[executor]
        assert registry[executor]["claimed_by"] is not None, registry[executor]
    # no task lost
    assert [t["status"] for t in tasks] == ["completed"] * len(scripts), tasks
    assert [t["result"]["answer"] for t in tasks] == [f"done {s}" for s in scripts]
    # no call repeated: the drains let the calls in flight finish and be checkpointed, so
    # every tool call ran once and every model turn was asked once
    lines = counter_lines(cluster.counter_file)
    for script in scripts:
        assert lines.count(f"tally {script}") == 1, (script, lines)
        assert asked_by_turn(model_standin, script) == {0: 1, 1: 1, 2: 1}, script
