"""The task API as a client sees it: validation, listing, ownership, start/stop rules."""

from __future__ import annotations

from tests.tasks.helpers import create, marker, tag, wait_for


async def test_create_answers_201_with_task_id(client, user):
    resp = await client.post("/api/tasks", headers=user.headers,
                             json={"title": "Analyze", "description": "Scan the repo"})
    assert resp.status_code == 201
    body = resp.json()
    assert body["status"] == "created"
    assert body["task_id"].startswith("task_")
    task = (await client.get(f"/api/tasks/{body['task_id']}", headers=user.headers)).json()
    assert task["model"] == "gpt-oss-120b"
    assert task["priority"] == "medium"
    assert task["progress"] == 0
    assert task["result"] is None and task["error"] is None


async def test_create_validates_fields(client, user):
    cases = [
        {"title": "", "description": "x"},
        {"title": "x" * 201, "description": "x"},
        {"title": "t", "description": ""},
        {"title": "t", "description": "x" * 20_001},
        {"title": "t", "description": "x", "priority": "urgent"},
        {"title": "t", "description": "x", "model": "gpt-5"},
        {"description": "x"},
    ]
    for body in cases:
        resp = await client.post("/api/tasks", headers=user.headers, json=body)
        assert resp.status_code == 400, (body, resp.text)
        assert resp.json()["code"] == "VALIDATION_ERROR"
    ok = await client.post("/api/tasks", headers=user.headers,
                           json={"title": "x" * 200, "description": "y" * 20_000,
                                 "model": "gpt-oss-20b", "priority": "critical"})
    assert ok.status_code == 201


async def test_model_names_are_normalised_once_with_one_error(client, user):
    # The spellings the schema publishes are accepted and recorded under the model's name.
    for sent in ("gpt-oss-20b", "20b", "openai/gpt-oss-20b"):
        task_id = await create(client, user, model=sent)
        task = (await client.get(f"/api/tasks/{task_id}", headers=user.headers)).json()
        assert task["model"] == "gpt-oss-20b", sent
    task_id = await create(client, user, model="120b")
    task = (await client.get(f"/api/tasks/{task_id}", headers=user.headers)).json()
    assert task["model"] == "gpt-oss-120b"
    # Anything else (another casing included) is the same 400 on the task and chat routes.
    for name in ("gpt-5", " GPT-OSS-20B "):
        refusals = [
            await client.post("/api/tasks", headers=user.headers,
                              json={"title": "t", "description": "x", "model": name}),
            await client.post("/api/chat", headers=user.headers,
                              json={"message": "hi", "model": name}),
        ]
        errors = [resp.json() for resp in refusals]
        for resp, body in zip(refusals, errors, strict=True):
            assert resp.status_code == 400, resp.text
            assert body["code"] == "VALIDATION_ERROR"
            assert body["details"]["validation_errors"][0].startswith("model: "), body
            assert "'gpt-oss-120b', 'gpt-oss-20b'" in body["details"]["validation_errors"][0]
        assert errors[0]["details"] == errors[1]["details"]


async def test_requires_authentication(client):
    resp = await client.get("/api/tasks")
    assert resp.status_code == 401
    assert resp.json()["code"] == "AUTH_REQUIRED"


async def test_list_newest_first_with_filter_and_pagination(client, register_user):
    me = await register_user()
    ids = [await create(client, me, title=f"T{i}") for i in range(3)]
    resp = await client.get("/api/tasks", headers=me.headers)
    assert resp.status_code == 200
    assert [t["id"] for t in resp.json()] == list(reversed(ids))
    assert resp.headers["X-Total-Count"] == "3"
    page = await client.get("/api/tasks?limit=1&offset=1", headers=me.headers)
    assert [t["id"] for t in page.json()] == [ids[1]]
    assert page.headers["X-Has-More"] == "true"
    first = page.json()[0]
    for field in ("id", "title", "description", "status", "model", "priority", "progress",
                  "created_at", "updated_at"):
        assert field in first
    await client.post(f"/api/tasks/{ids[0]}/stop", headers=me.headers)
    stopped = await client.get("/api/tasks?status=stopped", headers=me.headers)
    assert [t["id"] for t in stopped.json()] == [ids[0]]
    assert (await client.get("/api/tasks?status=bogus", headers=me.headers)).status_code == 400


async def test_another_users_task_is_not_found_everywhere(client, user, other_user):
    task_id = await create(client, user)
    for method, path in [("GET", f"/api/tasks/{task_id}"),
                         ("POST", f"/api/tasks/{task_id}/start"),
                         ("POST", f"/api/tasks/{task_id}/stop")]:
        resp = await client.request(method, path, headers=other_user.headers)
        assert resp.status_code == 404, path
        assert resp.json()["code"] == "TASK_NOT_FOUND"
    listed = await client.get("/api/tasks", headers=other_user.headers)
    assert task_id not in [t["id"] for t in listed.json()]
    missing = await client.get("/api/tasks/task_nope", headers=user.headers)
    assert missing.json()["code"] == "TASK_NOT_FOUND"


async def test_start_twice_is_409(client, user, model_standin):
    script = tag("start2")
    model_standin.script(script, [{"content": "1. answer"}, {"content": "done"}])
    task_id = await create(client, user, description=f"go {marker(script)}")
    assert (await client.post(f"/api/tasks/{task_id}/start", headers=user.headers)).json() == {
        "status": "started"}
    again = await client.post(f"/api/tasks/{task_id}/start", headers=user.headers)
    assert again.status_code == 409
    assert "created" in again.json()["error"]
    await wait_for(client, user, task_id)
    done = await client.post(f"/api/tasks/{task_id}/start", headers=user.headers)
    assert done.status_code == 409


async def test_stop_created_task_and_stop_finished_is_409(client, user):
    task_id = await create(client, user)
    resp = await client.post(f"/api/tasks/{task_id}/stop", headers=user.headers)
    assert resp.json() == {"status": "stopped"}
    again = await client.post(f"/api/tasks/{task_id}/stop", headers=user.headers)
    assert again.status_code == 409
    started = await client.post(f"/api/tasks/{task_id}/start", headers=user.headers)
    assert started.status_code == 409
