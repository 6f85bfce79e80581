"""Workflows mixing the model, hub (MCP) tools and workspace file tools."""

from __future__ import annotations

import asyncio
import uuid

from tests.heavy.helpers import orchestrate, result_of, step_of, wait_done


async def test_llm_step_reports_on_the_analysis_before_it(client, analysed_user, model_standin):
    tag = f"heavy-llm-{uuid.uuid4().hex[:6]}"
    await asyncio.to_thread(model_standin.script, tag, [
        {"content": "Fix the SQL injection first.",
         "usage": {"prompt_tokens": 120, "completion_tokens": 7}}])
    started = await orchestrate(client, analysed_user, {
        "workflow": [
            {"step": 1, "tool": "code_analyzer",
             "parameters": {"target": "proj", "type": "security"}},
            {"step": 2, "tool": "llm_generate",
             "parameters": {"prompt": f"Prioritise these findings. [[script:{tag}]]",
                            "model": "gpt-oss-20b"}},
        ]})
    body = await wait_done(client, analysed_user, started["orchestration_id"], within=60)
    assert body["status"] == "completed", body
    answer = result_of(body, 2)
    assert answer["content"] == "Fix the SQL injection first."
    assert answer["usage"]["total_tokens"] == 127
    sent = await asyncio.to_thread(model_standin.requests, tag)
    prompt = sent[-1]["messages"][-1]["content"]
    assert "SQL Injection" in prompt and "proj/app/db.py" in prompt  # the analyzer's findings


async def test_failed_model_call_fails_the_step(client, user, model_standin):
    tag = f"heavy-llm-err-{uuid.uuid4().hex[:6]}"
    await asyncio.to_thread(model_standin.script, tag, [{"error": 400, "message": "bad prompt"}])
    started = await orchestrate(client, user, {"workflow": [
        {"step": 1, "tool": "llm_generate",
         "parameters": {"prompt": f"x [[script:{tag}]]", "allow_fallback": False}}]})
    body = await wait_done(client, user, started["orchestration_id"], within=60)
    assert body["status"] == "failed"
    assert step_of(body, 1)["status"] == "failed" and step_of(body, 1)["error"]


async def test_workspace_and_mcp_tools_in_one_parallel_workflow(client, user):
    started = await orchestrate(client, user, {
        "workflow": [
            {"step": 1, "tool": "write_file",
             "parameters": {"path": "notes/a.txt", "content": "alpha beta"}},
            {"step": 2, "tool": "mcp_tool",
             "parameters": {"client": "time", "tool": "get_current_time",
                            "arguments": {"timezone": "UTC"}}},
            {"step": 3, "tool": "read_file", "parameters": {"path": "$steps.1.result.path"}},
            {"step": 4, "tool": "search_code", "parameters": {"query": "beta"},
             "depends_on": [1]},
        ],
        "config": {"parallel": True, "timeout": 60}})
    body = await wait_done(client, user, started["orchestration_id"], within=60)
    assert body["status"] == "completed", body
    assert result_of(body, 3)["content"] == "alpha beta"
    assert "UTC" in str(result_of(body, 2)["result"])
    assert "notes/a.txt" in str(result_of(body, 4))


async def test_unknown_hub_tool_is_a_validation_error(client, user):
    resp = await client.post("/api/heavy/orchestrate", headers=user.headers, json={
        "workflow": [{"step": 1, "tool": "mcp_tool",
                      "parameters": {"client": "time", "tool": "no_such_tool"}}]})
    assert resp.status_code == 400
    assert any("no tool 'no_such_tool'" in e
               for e in resp.json()["details"]["validation_errors"])
    resp = await client.post("/api/heavy/orchestrate", headers=user.headers, json={
        "workflow": [{"step": 1, "tool": "read_file", "parameters": {"path": 3}}]})
    assert resp.status_code == 400
