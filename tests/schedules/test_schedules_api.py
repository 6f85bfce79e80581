"""Schedules over HTTP on the shared server: ticks that create and start tasks, run now,
validation, ownership, delete."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from tests.schedules.helpers import create_schedule, runs, template, wait_runs
from tests.tasks.helpers import tag, wait_for


async def test_a_seconds_schedule_fires_a_task_per_tick(client, user):
    script = tag("tick")
    schedule = await create_schedule(client, user, script, overlap="allow")
    assert schedule["id"].startswith("sched_")
    assert schedule["timezone"] == "UTC" and schedule["enabled"] is True
    next_run = datetime.fromisoformat(schedule["next_run_at"])
    assert next_run.second % 2 == 0 and next_run.microsecond == 0

    seen = await wait_runs(client, user, schedule["id"], 3, status="fired")
    fired = [r for r in seen if r["status"] == "fired"]
    # one run per tick, each tick two seconds apart on the cron's grid
    ticks = [datetime.fromisoformat(r["scheduled_for"]) for r in fired]
    assert len(set(ticks)) == len(ticks)
    assert all(t.second % 2 == 0 and t.microsecond == 0 for t in ticks)
    assert all(r["trigger"] == "tick" for r in fired)
    task_ids = [r["task_id"] for r in fired]
    assert len(set(task_ids)) == len(task_ids)
    for task_id in task_ids:
        task = await wait_for(client, user, task_id)
        assert task["origin"] == "schedule"
        assert task["schedule_id"] == schedule["id"]
        assert task["status"] == "completed"
        assert task["title"] == f"Scheduled {script}"
    await client.delete(f"/api/schedules/{schedule['id']}", headers=user.headers)


async def test_run_now_starts_a_task_at_once(client, user):
    schedule = await create_schedule(client, user, tag("now"), cron="0 3 1 1 *")
    resp = await client.post(f"/api/schedules/{schedule['id']}/run", headers=user.headers)
    assert resp.status_code == 201, resp.text
    task_id = resp.json()["task_id"]
    task = await wait_for(client, user, task_id)
    assert task["status"] == "completed"
    assert (task["origin"], task["schedule_id"]) == ("schedule", schedule["id"])
    (run,) = await runs(client, user, schedule["id"])
    assert (run["status"], run["trigger"], run["task_id"]) == ("fired", "manual", task_id)


async def test_deleted_schedule_stops_firing(client, user):
    schedule = await create_schedule(client, user, tag("del"), overlap="allow")
    await wait_runs(client, user, schedule["id"], 1)
    resp = await client.delete(f"/api/schedules/{schedule['id']}", headers=user.headers)
    assert resp.status_code == 204
    assert (await client.get(f"/api/schedules/{schedule['id']}",
                             headers=user.headers)).status_code == 404
    tasks_before = await schedule_tasks(client, user, schedule["id"])
    await asyncio.sleep(4.5)  # two more ticks would have fired
    assert await schedule_tasks(client, user, schedule["id"]) == tasks_before


async def test_disabled_schedule_does_not_fire_until_enabled(client, user):
    schedule = await create_schedule(client, user, tag("off"), enabled=False)
    assert schedule["next_run_at"] is None
    await asyncio.sleep(2.5)
    assert await runs(client, user, schedule["id"]) == []
    resp = await client.patch(f"/api/schedules/{schedule['id']}", headers=user.headers,
                              json={"enabled": True})
    assert resp.status_code == 200 and resp.json()["next_run_at"] is not None
    await wait_runs(client, user, schedule["id"], 1)
    await client.delete(f"/api/schedules/{schedule['id']}", headers=user.headers)


async def schedule_tasks(client, user, schedule_id: str) -> set[str]:
    resp = await client.get("/api/tasks?limit=100", headers=user.headers)
    ids = {t["id"] for t in resp.json()}
    out = set()
    for task_id in ids:
        detail = (await client.get(f"/api/tasks/{task_id}", headers=user.headers)).json()
        if detail.get("schedule_id") == schedule_id:
            out.add(task_id)
    return out


async def test_invalid_cron_or_timezone_is_400_with_the_reason(client, user):
    base = {"name": "bad", "task": template("x")}
    cases = {
        "61 * * * *": "out of range",
        "* * * *": "5 fields",
        "0 0 9 * * * 2026": "5 fields",
        "not a cron at all": "not acceptable",
        "0 0 30 2 *": "never fires",
    }
    for expression, reason in cases.items():
        resp = await client.post("/api/schedules", headers=user.headers,
                                 json={**base, "cron": expression})
        assert resp.status_code == 400, (expression, resp.text)
        body = resp.json()
        assert body["code"] == "VALIDATION_ERROR"
        assert reason in " ".join(body["details"]["validation_errors"]), (expression, body)
    for zone in ("Mars/Olympus_Mons", "../../etc/passwd", "utc+2"):
        resp = await client.post("/api/schedules", headers=user.headers,
                                 json={**base, "cron": "0 9 * * *", "timezone": zone})
        assert resp.status_code == 400, (zone, resp.text)
        assert "time zone" in resp.json()["details"]["validation_errors"][0]
    schedule = await create_schedule(client, user, tag("patch"), cron="0 9 * * *")
    resp = await client.patch(f"/api/schedules/{schedule['id']}", headers=user.headers,
                              json={"cron": "99 * * * *"})
    assert resp.status_code == 400
    for overlap in ("sometimes", 1):
        resp = await client.post("/api/schedules", headers=user.headers,
                                 json={**base, "cron": "0 9 * * *", "overlap": overlap})
        assert resp.status_code == 400
    # the task's tool policy is checked when the schedule is saved, not at its first tick
    for policy in ({"default": "maybe"}, {"rules": [{"match": "git.[", "action": "ask"}]}):
        resp = await client.post("/api/schedules", headers=user.headers, json={
            **base, "cron": "0 9 * * *", "task": {**template("x"), "tool_policy": policy}})
        assert resp.status_code == 400, (policy, resp.text)
    resp = await client.post("/api/schedules", headers=user.headers, json={
        **base, "cron": "0 9 * * *",
        "task": {**template("x"), "tool_policy": {"default": "ask"}}})
    assert resp.status_code == 201, resp.text
    assert resp.json()["task"]["tool_policy"]["default"] == "ask"
    await client.delete(f"/api/schedules/{resp.json()['id']}", headers=user.headers)


async def test_another_users_schedule_is_404(client, user, other_user):
    schedule = await create_schedule(client, user, tag("mine"), cron="0 9 * * *")
    path = f"/api/schedules/{schedule['id']}"
    for method, suffix, body in (("GET", "", None), ("PATCH", "", {"name": "x"}),
                                 ("DELETE", "", None), ("POST", "/run", None),
                                 ("GET", "/runs", None)):
        resp = await client.request(method, path + suffix, headers=other_user.headers, json=body)
        assert resp.status_code == 404, (method, suffix, resp.text)
        assert resp.json()["code"] == "SCHEDULE_NOT_FOUND"
    listed = (await client.get("/api/schedules", headers=other_user.headers)).json()
    assert schedule["id"] not in {s["id"] for s in listed}
    mine = await client.get("/api/schedules", headers=user.headers)
    assert schedule["id"] in {s["id"] for s in mine.json()}
    assert mine.headers["x-total-count"]
    assert (await client.get(path, headers=user.headers)).status_code == 200


async def test_patch_changes_only_what_is_given(client, user):
    schedule = await create_schedule(client, user, tag("p"), cron="0 9 * * *",
                                     timezone="Europe/Paris", overlap="queue")
    resp = await client.patch(f"/api/schedules/{schedule['id']}", headers=user.headers,
                              json={"name": "renamed", "cron": "30 8 * * MON-FRI"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["name"], body["cron"], body["timezone"], body["overlap"]) == (
        "renamed", "30 8 * * MON-FRI", "Europe/Paris", "queue")
    nxt = datetime.fromisoformat(body["next_run_at"])
    assert nxt.weekday() < 5 and nxt.minute == 30 and nxt.hour in (6, 7)  # 08:30 Paris


async def test_the_python_client_manages_schedules(server, user):
    from crazy_gary.client import AsyncClient, NotFoundError, ValidationError

    async with AsyncClient(server.url, token=user.token) as gary:
        created = await gary.schedules.create("Weekly", "0 9 * * MON", template(tag("cl")),
                                              timezone="Europe/Paris")
        assert created.next_run_at is not None and created.overlap == "skip"
        assert (await gary.schedules.get(created.id)).name == "Weekly"
        assert created.id in {s.id for s in (await gary.schedules.list(limit=100)).items}
        changed = await gary.schedules.update(created.id, overlap="queue", enabled=False)
        assert (changed.overlap, changed.enabled, changed.next_run_at) == ("queue", False, None)
        started = await gary.schedules.run(created.id)
        (run,) = (await gary.schedules.runs(created.id)).items
        assert (run.task_id, run.trigger) == (started.task_id, "manual")
        assert (await gary.tasks.get(started.task_id)).schedule_id == created.id
        with pytest.raises(ValidationError):
            await gary.schedules.create("Bad", "0 9 * *", template("x"))
        await gary.schedules.delete(created.id)
        with pytest.raises(NotFoundError):
            await gary.schedules.get(created.id)
