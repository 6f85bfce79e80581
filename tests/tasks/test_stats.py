"""Statistics: counts, average completion time and success rate."""

from __future__ import annotations

import pytest

from tests.tasks.helpers import create, run_task, tag, wait_for


async def test_stats_arithmetic(client, register_user, model_standin):
    me = await register_user()
    empty = (await client.get("/api/stats", headers=me.headers)).json()
    assert empty == {"total_tasks": 0, "active_tasks": 0, "completed_tasks": 0,
                     "failed_tasks": 0, "average_completion_time": 0.0, "success_rate": 0.0}
    ok, bad = tag("ok"), tag("bad")
    model_standin.script(ok, [{"content": "1. a"}, {"content": "done"}])
    model_standin.script(bad, [{"error": 503}])
    done = [await run_task(client, me, ok) for _ in range(3)]
    failed = await run_task(client, me, bad)
    for task_id in [*done, failed]:
        await wait_for(client, me, task_id)
    await create(client, me)  # created: counted in total only
    stats = (await client.get("/api/stats", headers=me.headers)).json()
    assert stats["total_tasks"] == 5
    assert stats["active_tasks"] == 0
    assert stats["completed_tasks"] == 3
    assert stats["failed_tasks"] == 1
    assert stats["success_rate"] == pytest.approx(0.75)
    durations = []
    for task_id in done:
        task = (await client.get(f"/api/tasks/{task_id}", headers=me.headers)).json()
        from datetime import datetime
        start = datetime.fromisoformat(task["started_at"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(task["completed_at"].replace("Z", "+00:00"))
        durations.append((end - start).total_seconds())
    assert stats["average_completion_time"] == pytest.approx(sum(durations) / 3, abs=0.01)


async def test_stats_for_everyone_is_admin_only(client, user, admin):
    refused = await client.get("/api/stats?scope=all", headers=user.headers)
    assert refused.status_code == 403
    mine = (await client.get("/api/stats", headers=admin.headers)).json()
    everyone = (await client.get("/api/stats?scope=all", headers=admin.headers)).json()
    assert everyone["total_tasks"] >= mine["total_tasks"]
    assert everyone["total_tasks"] > 0
