"""One process runs far more tasks at once than the old ceiling of 16: waiting on a model
holds no thread and no worker slot of its own, and the per-user cap still applies."""

from __future__ import annotations

import asyncio

from tests.tasks.helpers import create, marker, tag, wait_for

USERS = 14  # × the per-user cap of 3: 42 tasks in flight together, well past 16


async def test_one_process_holds_every_task_in_flight_at_once(client, register_user,
                                                              model_standin, settings):
    cap = settings.task_per_user_concurrency
    assert USERS * cap > 16 and settings.task_worker_concurrency >= USERS * cap
    script, barrier = tag("crowd"), tag("all-in-flight")
    # Every task's first model call is held by the stand-in until all of them have
    # arrived: the replies come only if USERS * cap calls are in flight at the same time.
    model_standin.script(script, [
        {"content": "1. wait for the others",
         "barrier": {"name": barrier, "parties": USERS * cap, "timeout": 30}},
        {"content": "everyone was here"}], by="turn")
    users = [await register_user() for _ in range(USERS)]
    tasks: list[tuple[object, str]] = []
    for me in users:
        for i in range(cap):
            tasks.append((me, await create(client, me, title=f"crowd {i}",
                                           description=f"Wait. {marker(script)}")))
    # one task more for the first user: it must wait for one of that user's slots
    extra = (users[0], await create(client, users[0], title="one too many",
                                    description=f"Wait. {marker(script)}"))
    tasks.append(extra)
    starts = await asyncio.gather(*(
        client.post(f"/api/tasks/{task_id}/start", headers=me.headers) for me, task_id in tasks))
    assert all(resp.status_code == 200 for resp in starts), [r.text for r in starts]

    done = [await wait_for(client, me, task_id, within=90) for me, task_id in tasks]
    answers = [(t["result"] or {}).get("answer") or t["error"] for t in done]
    assert answers == ["everyone was here"] * len(tasks), answers
    assert model_standin.barriers()[barrier] == len(tasks)
    # the first user never had more than `cap` tasks running at once
    spans = sorted((t["started_at"], t["completed_at"])
                   for (me, _), t in zip(tasks, done, strict=True) if me is users[0])
    assert len(spans) == cap + 1
    for start, _ in spans:
        assert len([s for s in spans if s[0] <= start < s[1]]) <= cap
