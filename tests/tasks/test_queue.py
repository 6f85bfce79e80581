"""The queue: a per-user cap on running tasks, critical before low when a slot frees."""

from __future__ import annotations

import asyncio

from tests.tasks.helpers import create, marker, tag, wait_for


async def test_per_user_cap_and_priority_order(client, register_user, model_standin, settings):
    me = await register_user()
    cap = settings.task_per_user_concurrency
    quick = tag("quick")
    model_standin.script(quick, [{"content": "1. go"}, {"content": "quick done"}])
    blockers = []
    for i in range(cap):  # staggered, so slots free one at a time
        slow = tag("slow")
        model_standin.script(slow, [{"content": "1. wait", "delay": 1.5 + i},
                                    {"content": "slow done"}])
        blockers.append(await create(client, me, description=f"block {marker(slow)}"))
    for task_id in blockers:
        await client.post(f"/api/tasks/{task_id}/start", headers=me.headers)
    for task_id in blockers:  # every slot taken before the others queue (else critical
        # would rightly overtake a blocker that is still waiting to be dequeued)
        await wait_for(client, me, task_id, statuses=("running",), phase="planning")
    low = await create(client, me, description=f"low {marker(quick)}", priority="low")
    critical = await create(client, me, description=f"crit {marker(quick)}",
                            priority="critical")
    await client.post(f"/api/tasks/{low}/start", headers=me.headers)
    await client.post(f"/api/tasks/{critical}/start", headers=me.headers)

    # while the blockers run, the others wait in the queue
    await asyncio.sleep(0.5)
    for task_id in (low, critical):
        task = (await client.get(f"/api/tasks/{task_id}", headers=me.headers)).json()
        assert task["status"] == "running" and task["phase"] == "queued", task
        assert task["started_at"] is None

    done = {t: await wait_for(client, me, t, within=60) for t in [*blockers, low, critical]}
    assert all(t["status"] == "completed" for t in done.values())
    assert done[critical]["started_at"] < done[low]["started_at"]
    # never more than `cap` of this user's tasks ran at once
    spans = sorted((t["started_at"], t["completed_at"]) for t in done.values())
    for start, _ in spans:
        running = [s for s in spans if s[0] <= start < s[1]]
        assert len(running) <= cap


async def test_queued_task_without_workflow_is_enqueued_at_start_up(client, user, server,
                                                                   model_standin):
    """The process died between marking the task queued and enqueueing it."""
    from crazy_gary.db import session_scope
    from crazy_gary.tasks import queue, service

    script = tag("orphan")
    model_standin.script(script, [{"content": "1. go"}, {"content": "recovered"}])
    task_id = await create(client, user, description=f"orphan {marker(script)}")

    async def orphan_then_recover():
        async with session_scope() as session:
            await service.mark_queued(session, user_id=user.id, task_id=task_id)
        await queue.requeue_orphans()  # what every process runs after the engine starts

    server.run_coro(orphan_then_recover())
    task = await wait_for(client, user, task_id)
    assert task["status"] == "completed"
    assert task["result"]["answer"] == "recovered"
