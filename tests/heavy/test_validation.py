"""Invalid workflows are refused before anything runs; the tool catalogue."""

from __future__ import annotations

import pytest

from tests.heavy.helpers import orchestrate


def step(n, tool="wait", **params):
    return {"step": n, "tool": tool, "parameters": params or {"seconds": 0}}


CASES = {
    "unknown tool": ([step(1, "no_such_tool")], "unknown tool 'no_such_tool'"),
    "bad enum": ([{"step": 1, "tool": "code_analyzer",
                   "parameters": {"target": "x", "type": "everything"}}], "'everything' is not"),
    "missing required": ([{"step": 1, "tool": "code_analyzer", "parameters": {"type": "all"}}],
                         "'target' is a required property"),
    "wrong type": ([step(1, seconds="soon")], "'soon' is not of type 'number'"),
    "unknown parameter": ([step(1, seconds=0, colour="red")], "Additional properties"),
    "duplicate step": ([step(1), step(1)], "step 1: duplicate step number"),
    "later reference": ([step(1, seconds=0, value="$steps.2.result"), step(2)],
                        "step 1: refers to later step 2"),
    "missing reference": ([step(1), step(2, seconds=0, value="$steps.7.result")],
                          "step 2: refers to step 7, which does not exist"),
    "self reference": ([step(1, seconds="$steps.1.result.x")], "refers to itself (cycle)"),
    "cycle": ([{**step(1), "depends_on": [2]}, step(2, seconds=0, value="$steps.1.result")],
              "cycle between steps 1 -> 2 -> 1"),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_invalid_workflow_is_refused(client, user, case):
    workflow, message = CASES[case]
    before = await client.get("/api/heavy/progress", headers=user.headers)
    resp = await client.post("/api/heavy/orchestrate", headers=user.headers,
                             json={"workflow": workflow, "config": {"timeout": 10}})
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["code"] == "VALIDATION_ERROR"
    errors = body["details"]["validation_errors"]
    assert any(message in e for e in errors), errors
    after = await client.get("/api/heavy/progress", headers=user.headers)
    assert after.status_code == before.status_code  # nothing was started
    if after.status_code == 200:
        assert after.json()["orchestration_id"] == before.json()["orchestration_id"]


@pytest.mark.parametrize("body", [
    {"workflow": []},
    {"workflow": [{"step": 1, "tool": "wait", "parameters": {"seconds": 0}}], "query": "both"},
    {},
    {"query": "q", "num_agents": 9},
    {"query": "q", "num_agents": 0},
    {"workflow": [{"step": 1, "tool": "wait", "parameters": {"seconds": 0}}],
     "config": {"timeout": -1}},
])
async def test_malformed_requests_are_validation_errors(client, user, body):
    resp = await client.post("/api/heavy/orchestrate", headers=user.headers, json=body)
    assert resp.status_code == 400
    assert resp.json()["code"] == "VALIDATION_ERROR"


async def test_orchestrate_requires_auth(client):
    resp = await client.post("/api/heavy/orchestrate", json={"query": "x"})
    assert resp.status_code == 401


async def test_tools_catalogue_matches_contract(client, user):
    resp = await client.get("/api/heavy/tools", headers=user.headers)
    assert resp.status_code == 200
    tools = {t["name"]: t for t in resp.json()}
    analyzer = tools["code_analyzer"]
    assert analyzer["category"] == "analysis"
    assert analyzer["description"] == "Analyze code for security, performance, and quality issues"
    assert analyzer["parameters"]["target"]["type"] == "string"
    assert analyzer["parameters"]["target"]["required"] is True
    assert analyzer["parameters"]["type"]["enum"] == ["security", "performance", "quality", "all"]
    report = tools["report_generator"]
    assert report["category"] == "reporting"
    assert report["parameters"]["format"]["enum"] == ["pdf", "html", "json"]
    assert report["parameters"]["include_recommendations"] == {
        "type": "boolean", "default": True, "description": "Include recommendations in report",
        "required": False}
    for tool in tools.values():
        assert {"name", "description", "category", "parameters"} == set(tool)
        for spec in tool["parameters"].values():
            assert "description" in spec and "required" in spec


async def test_execute_unknown_tool_or_bad_parameters(client, user):
    resp = await client.post("/api/heavy/tools/execute", headers=user.headers,
                             json={"tool_name": "nope", "parameters": {}})
    assert resp.status_code == 400 and resp.json()["code"] == "VALIDATION_ERROR"
    resp = await client.post("/api/heavy/tools/execute", headers=user.headers,
                             json={"tool_name": "code_analyzer", "parameters": {"type": "x"}})
    assert resp.status_code == 400
    assert len(resp.json()["details"]["validation_errors"]) == 2
    resp = await client.post("/api/heavy/tools/execute", headers=user.headers,
                             json={"tool_name": "wait", "parameters": {"seconds": 86400}})
    assert resp.status_code == 400
    assert "only runs inside a workflow" in resp.json()["error"]


async def test_estimate_comes_from_recorded_durations(client, user):
    first = await orchestrate(client, user, {"workflow": [step(1, seconds=0.3)]})
    from tests.heavy.helpers import wait_done

    await wait_done(client, user, first["orchestration_id"])
    again = await orchestrate(client, user, {"workflow": [step(1), step(2)]})
    # Two sequential waits, each estimated from the recorded wait runs (well under the
    # one-second default that applies before any run).
    assert 0 < again["estimated_duration"] < 2.0


@pytest.mark.parametrize("body", [
    {"workflow": [{"step": 2**40, "tool": "wait", "parameters": {"seconds": 0}}]},
    {"workflow": [{"step": 1, "tool": "wait", "parameters": {"seconds": 0},
                   "depends_on": [2**40]}]},
    {"query": "nul \x00 byte"},
    {"workflow": [{"step": 1, "tool": "wait", "parameters": {"seconds": 0}, "name": "a\x00"}]},
])
async def test_values_the_database_cannot_hold_are_refused(client, user, body):
    resp = await client.post("/api/heavy/orchestrate", headers=user.headers, json=body)
    assert resp.status_code == 400
    assert resp.json()["code"] == "VALIDATION_ERROR"


async def test_nul_inside_parameter_values_is_refused(client, user):
    """NUL text is refused in every request body (docs/foundation.md), free-form workflow
    parameters included."""
    resp = await client.post("/api/heavy/orchestrate", headers=user.headers, json={
        "workflow": [{"step": 1, "tool": "wait", "parameters": {"seconds": 0, "value": "a\x00b"}}]})
    assert resp.status_code == 400
    assert resp.json()["details"]["validation_errors"] == [
        "workflow.0.parameters.value: must not contain NUL characters"]
