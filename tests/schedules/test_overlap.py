"""Overlap policies: a tick while the schedule's previous task is still running is
skipped, queued behind it, or run beside it."""

from __future__ import annotations

from datetime import datetime

from tests.schedules.helpers import create_schedule, runs, wait_runs
from tests.tasks.helpers import tag, wait_for

# Each model call of these tasks takes 2.5 s (a task makes two), so a task spans more
# than one tick of an every-2-seconds schedule.
SLOW = [{"content": "Working on it.", "delay": 2.5}]


async def slow_schedule(client, user, model_standin, overlap: str) -> dict:
    script = tag(overlap)
    model_standin.script(script, SLOW)
    return await create_schedule(client, user, script, overlap=overlap)


async def finished_tasks(client, user, task_ids: list[str]) -> list[dict]:
    return [await wait_for(client, user, task_id, within=60) for task_id in task_ids]


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_skip_records_ticks_while_the_previous_run_goes(client, user, model_standin):
    schedule = await slow_schedule(client, user, model_standin, "skip")
    await wait_runs(client, user, schedule["id"], 2, status="fired", within=40)
    seen = await runs(client, user, schedule["id"])
    await client.patch(f"/api/schedules/{schedule['id']}", headers=user.headers,
                       json={"enabled": False})
    skipped = [r for r in seen if r["status"] == "skipped"]
    fired = [r for r in seen if r["status"] == "fired"]
    assert skipped and all(r["task_id"] is None for r in skipped)
    assert not [r for r in seen if r["status"] == "queued"]
    tasks = await finished_tasks(client, user, [r["task_id"] for r in fired])
    # never two runs at once: each run started after the one before it had ended
    for before, after in zip(tasks, tasks[1:], strict=False):
        assert at(after["started_at"]) >= at(before["completed_at"])
    # a skipped tick fell while a fired run was still going
    first_end = at(tasks[0]["completed_at"])
    assert any(at(fired[0]["scheduled_for"]) < at(r["scheduled_for"]) < first_end
               for r in skipped)


async def test_queue_starts_the_next_run_once_the_previous_ended(client, user, model_standin):
    schedule = await slow_schedule(client, user, model_standin, "queue")
    await wait_runs(client, user, schedule["id"], 2, status="queued", within=40)
    await client.patch(f"/api/schedules/{schedule['id']}", headers=user.headers,
                       json={"enabled": False})
    seen = await runs(client, user, schedule["id"])
    assert all(r["status"] in ("fired", "queued") and r["task_id"] for r in seen)
    assert seen[0]["status"] == "fired"
    tasks = await finished_tasks(client, user, [r["task_id"] for r in seen])
    assert all(t["status"] == "completed" for t in tasks)
    for before, after in zip(tasks, tasks[1:], strict=False):
        assert at(after["started_at"]) >= at(before["completed_at"])
    # every queued run's task existed (created) before it could start
    for run, task in zip(seen, tasks, strict=True):
        assert at(task["started_at"]) >= at(run["scheduled_for"])


async def test_allow_runs_the_next_beside_the_previous(client, user, model_standin):
    schedule = await slow_schedule(client, user, model_standin, "allow")
    await wait_runs(client, user, schedule["id"], 2, status="fired", within=40)
    await client.patch(f"/api/schedules/{schedule['id']}", headers=user.headers,
                       json={"enabled": False})
    seen = await runs(client, user, schedule["id"])
    assert all(r["status"] == "fired" for r in seen)
    tasks = await finished_tasks(client, user, [r["task_id"] for r in seen])
    first, second = tasks[0], tasks[1]
    assert at(second["started_at"]) < at(first["completed_at"])
