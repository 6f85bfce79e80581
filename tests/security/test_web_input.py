"""Input handling holes of issue 13 (low), replayed against a real server: NUL text stored
(a 500 on PostgreSQL), datetime query values that overflowed into a 500 or were read from a
number, and 405 answers naming one method of several."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.support import register

# -- NUL text (LOW) -------------------------------------------------------------------------

async def test_nul_in_a_task_title_is_refused_and_nothing_is_stored(client):
    owner = await register(client)
    body = '{"title": "a\\u0000b", "description": "d"}'
    resp = await client.post("/api/tasks", headers={**owner.headers,
                                                    "Content-Type": "application/json"},
                             content=body.encode())
    assert resp.status_code == 400
    error = resp.json()
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["validation_errors"] == ["title: must not contain NUL characters"]
    tasks = await client.get("/api/tasks", headers=owner.headers)
    assert tasks.json() == []


async def test_nul_in_an_incident_is_refused(client, admin):
    title = f"nul-{uuid.uuid4().hex}"
    for body in (f'{{"title": "{title}", "description": "x\\u0000"}}',
                 f'{{"title": "{title}", "severity": "low", "extra\\u0000key": 1}}'):
        resp = await client.post("/api/monitoring/incidents",
                                 headers={**admin.headers, "Content-Type": "application/json"},
                                 content=body.encode())
        assert resp.status_code == 400, resp.text
        assert resp.json()["code"] == "VALIDATION_ERROR"
    listed = await client.get("/api/monitoring/incidents", headers=admin.headers,
                              params={"limit": 100})
    assert title not in listed.text


async def test_nul_in_a_heavy_workflow_parameter_is_refused(client):
    owner = await register(client)
    body = ('{"workflow": [{"step": 1, "tool": "text_processor", '
            '"parameters": {"text": "ok", "options": [{"deep": "x\\u0000y"}]}}]}')
    resp = await client.post("/api/heavy/orchestrate",
                             headers={**owner.headers, "Content-Type": "application/json"},
                             content=body.encode())
    assert resp.status_code == 400
    assert resp.json()["details"]["validation_errors"] == [
        "workflow.0.parameters.options.0.deep: must not contain NUL characters"]
    progress = await client.get("/api/heavy/progress", headers=owner.headers)
    assert progress.status_code == 404  # no orchestration was stored


async def test_nul_in_query_and_path_is_refused_before_the_route(client, user):
    resp = await client.get("/api/tasks?status=run%00ning", headers=user.headers)
    assert resp.status_code == 400
    assert resp.json()["details"]["validation_errors"] == [
        "query.status: must not contain NUL characters"]
    resp = await client.get("/api/tasks/task%00x", headers=user.headers)
    assert resp.status_code == 400
    assert resp.json()["code"] == "VALIDATION_ERROR"


async def test_an_escaped_backslash_before_u0000_is_plain_text(client):
    owner = await register(client)
    resp = await client.post("/api/tasks", headers={**owner.headers,
                                                    "Content-Type": "application/json"},
                             content=b'{"title": "C:\\\\u0000 path", "description": "d"}')
    assert resp.status_code == 201, resp.text
    task = await client.get(f"/api/tasks/{resp.json()['task_id']}", headers=owner.headers)
    assert task.json()["title"] == "C:\\u0000 path"


async def test_lone_surrogates_are_refused_and_pairs_pass(client):
    owner = await register(client)
    headers = {**owner.headers, "Content-Type": "application/json"}
    resp = await client.post("/api/tasks", headers=headers,
                             content=b'{"title": "t", "description": "half \\ud83d"}')
    assert resp.status_code == 400
    assert resp.json()["details"]["validation_errors"] == [
        "description: must be valid Unicode text"]
    resp = await client.post("/api/tasks", headers=headers,
                             content=b'{"title": "t", "description": "whole \\ud83d\\ude00"}')
    assert resp.status_code == 201, resp.text


# -- odd datetime query values (LOW) --------------------------------------------------------

@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
                                   "0.5", "1700000000", "yesterday"])
async def test_out_of_range_or_non_iso_datetimes_are_400(client, admin, value):
    resp = await client.get("/api/monitoring/logs/requests", headers=admin.headers,
                            params={"start_time": value})
    assert resp.status_code == 400, resp.text
    assert resp.json()["code"] == "VALIDATION_ERROR"
    assert resp.json()["details"]["validation_errors"][0].startswith("query.start_time:")


async def test_every_datetime_query_parameter_refuses_numbers_and_overflow(client, admin):
    """The class, not the instance: any route with a date-time query parameter (found in
    the OpenAPI document) answers 400 to a number and to an out-of-range value."""
    spec = (await client.get("/openapi.json")).json()
    found = []
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            for param in op.get("parameters", []):
                if param["in"] == "query" and "date-time" in json.dumps(param["schema"]):
                    found.append((method, path, param["name"]))
    assert ("get", "/api/monitoring/logs/requests", "start_time") in found
    for method, path, name in found:
        url = path.replace("{", "x").replace("}", "")  # any path parameter: a made-up id
        for value in ("0.5", "0001-01-01T00:00:00+14:00"):
            resp = await client.request(method.upper(), url, params={name: value},
                                        headers=admin.headers)
            assert resp.status_code == 400, (method, path, name, value, resp.text)


async def test_iso_datetimes_still_work(client, admin):
    for value in ("2020-01-01T00:00:00Z", "2020-01-01T02:00:00+02:00", "2020-01-01"):
        resp = await client.get("/api/monitoring/logs/requests", headers=admin.headers,
                                params={"start_time": value, "limit": 1})
        assert resp.status_code == 200, (value, resp.text)


# -- 405 lists every method of the path (LOW) -----------------------------------------------

async def test_405_allow_lists_every_method_of_the_path(client, user):
    resp = await client.put("/api/tasks", headers=user.headers)
    assert resp.status_code == 405
    assert resp.json()["code"] == "METHOD_NOT_ALLOWED"
    allowed = {m.strip() for m in resp.headers["allow"].split(",")}
    assert {"GET", "POST"} <= allowed and "PUT" not in allowed
    resp = await client.delete("/api/monitoring/incidents/inc_x", headers=user.headers)
    allowed = {m.strip() for m in resp.headers["allow"].split(",")}
    assert {"GET", "PATCH"} <= allowed
