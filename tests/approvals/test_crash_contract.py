"""Approvals and write calls across SIGKILL: waiting is durable, a write call cut off by a
crash is put to a person instead of re-run, a read call is re-run; on PostgreSQL a decision
made on one process resumes a task running on another."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from tests.approvals.helpers import PLAN, call, effect_lines, effects_entry, tool_messages, turn
from tests.support import ProcessServer, register
from tests.tasks.helpers import marker, tag
from tests.tasks.test_durability import wait_final

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


def effects_env(base_env: dict, model_standin, data_dir: Path, log_file: Path,
                executor: str) -> dict:
    config = data_dir / "mcp.json"
    config.write_text(json.dumps({"mcpServers": {"effects": effects_entry(log_file)}}))
    env = {**base_env, "CRAZY_GARY_DATA_DIR": str(data_dir),
           "MODEL_120B_BASE_URL": model_standin.url, "MODEL_20B_BASE_URL": model_standin.url,
           "MCP_CONFIG": str(config), "CRAZY_GARY_EXECUTOR_ID": executor,
           "MODEL_RETRY_BACKOFF_SECONDS": "0.05"}
    env.update(DATABASE_URL="", REDIS_URL="")
    return env


async def start_task(client, user, script: str) -> str:
    resp = await client.post("/api/tasks", headers=user.headers, json={
        "title": script, "description": f"work {marker(script)}", "auto_start": True})
    assert resp.status_code == 201, resp.text
    return resp.json()["task_id"]


async def pending_of(client, user, task_id: str, within: float = 60) -> list[dict]:
    deadline = time.monotonic() + within
    while True:
        body = (await client.get(f"/api/tasks/{task_id}", headers=user.headers)).json()
        if body.get("pending_approvals"):
            return body["pending_approvals"]
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.1)


async def until(predicate, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, "condition never held"
        await asyncio.sleep(0.05)


async def test_sigkill_while_waiting_then_decide_after_restart(base_env, model_standin):
    data_dir = Path(tempfile.mkdtemp(prefix="cg-appr-wait-"))
    log_file = data_dir / "effects.log"
    script = tag("waitkill")
    model_standin.script(script, [PLAN, turn(call("wipe", script), content="wiping"),
                                  {"content": "wiped after the restart"}])
    env = effects_env(base_env, model_standin, data_dir, log_file, "appr-wait")
    first = ProcessServer(env).start()
    second = None
    try:
        async with httpx.AsyncClient(base_url=first.url, timeout=30) as client:
            user = await register(client)
            task_id = await start_task(client, user, script)
            [pending] = await pending_of(client, user, task_id)
        first.kill()
        assert len(model_standin.requests(script)) == 2

        second = ProcessServer(env, port=first.port).start()
        async with httpx.AsyncClient(base_url=second.url, timeout=30) as client:
            body = (await client.get(f"/api/tasks/{task_id}", headers=user.headers)).json()
            assert body["status"] == "running" and body["phase"] == "awaiting_approval"
            assert [p["id"] for p in body["pending_approvals"]] == [pending["id"]]
            resp = await client.post(f"/api/approvals/{pending['id']}", headers=user.headers,
                                     json={"decision": "approve"})
            assert resp.status_code == 200, resp.text
            task = await wait_final(client, user.headers, task_id)
    finally:
        first.kill()
        if second is not None:
            second.stop()
    assert task["status"] == "completed", (task, second.log()[-3000:])
    assert effect_lines(log_file) == [f"wipe {script}"]
    # the plan and the first turn were not asked again: one more request, for the answer
    requests = model_standin.requests(script)
    assert len(requests) == 3
    assert f"wipe done: {script}" in tool_messages(requests[-1])[0]


async def test_sigkill_during_calls_write_is_asked_read_is_rerun(base_env, model_standin):
    data_dir = Path(tempfile.mkdtemp(prefix="cg-appr-crash-"))
    log_file = data_dir / "effects.log"
    write, again, read = tag("writekill"), tag("writeagain"), tag("readkill")
    model_standin.script(write, [PLAN, turn(call("record", write, seconds=60)),
                                 {"content": "told the outcome is unknown"}])
    model_standin.script(again, [PLAN, turn(call("record", again, seconds=60)),
                                 {"content": "ran it again"}])
    model_standin.script(read, [PLAN, turn(call("peek", read, seconds=2)),
                                {"content": "peeked"}])
    env = effects_env(base_env, model_standin, data_dir, log_file, "appr-crash")
    first = ProcessServer(env).start()
    second = None
    try:
        async with httpx.AsyncClient(base_url=first.url, timeout=30) as client:
            user = await register(client)
            write_id = await start_task(client, user, write)
            again_id = await start_task(client, user, again)
            read_id = await start_task(client, user, read)
            # every call has reached the tool when the process dies
            await until(lambda: {f"record {write}", f"record {again}", f"peek {read}"}
                        <= set(effect_lines(log_file)))
        first.kill()

        second = ProcessServer(env, port=first.port).start()
        async with httpx.AsyncClient(base_url=second.url, timeout=30) as client:
            read_task = await wait_final(client, user.headers, read_id)
            [pending] = await pending_of(client, user, write_id)
            assert pending["reason"] == "interrupted"
            assert pending["tool"] == "effects.record"
            assert effect_lines(log_file).count(f"record {write}") == 1
            resp = await client.post(f"/api/approvals/{pending['id']}", headers=user.headers,
                                     json={"decision": "deny", "comment": "I'll check myself"})
            assert resp.status_code == 200, resp.text
            write_task = await wait_final(client, user.headers, write_id)
            # approved: it runs again, with the arguments the person chose
            [pending] = await pending_of(client, user, again_id)
            assert pending["reason"] == "interrupted"
            assert effect_lines(log_file).count(f"record {again}") == 1
            resp = await client.post(f"/api/approvals/{pending['id']}", headers=user.headers,
                                     json={"decision": "approve",
                                           "arguments": {"label": again, "seconds": 0}})
            assert resp.status_code == 200, resp.text
            again_task = await wait_final(client, user.headers, again_id)
    finally:
        first.kill()
        if second is not None:
            second.stop()
    log = second.log()[-3000:] if second else ""
    # the read call ran again on recovery, with no one asked
    assert read_task["status"] == "completed", (read_task, log)
    assert effect_lines(log_file).count(f"peek {read}") == 2
    assert read_task["pending_approvals"] == []
    # the write call was not repeated; the model was told its outcome is unknown
    assert write_task["status"] == "completed", (write_task, log)
    assert effect_lines(log_file).count(f"record {write}") == 1
    [told] = tool_messages(model_standin.requests(write)[-1])
    assert "outcome is unknown" in told and "I'll check myself" in told
    steps = [s for s in write_task["result"]["steps"] if s["kind"] == "tool"]
    assert [s["outcome"] for s in steps] == ["unknown"]
    assert again_task["status"] == "completed", (again_task, log)
    assert effect_lines(log_file).count(f"record {again}") == 2
    [result] = tool_messages(model_standin.requests(again)[-1])
    assert f"record done: {again}" in result


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="two processes share PostgreSQL only")
async def test_decision_on_one_process_resumes_a_task_on_another(base_env, model_standin):
    from tests.tasks.test_workers import executors, fresh_database

    url = fresh_database(TEST_DATABASE_URL, "approvals")
    data_dir = Path(tempfile.mkdtemp(prefix="cg-appr-two-"))
    log_file = data_dir / "effects.log"
    script = tag("twoproc")
    model_standin.script(script, [PLAN, turn(call("wipe", script)), {"content": "done on B"}])

    def env_for(executor: str, sub: str) -> dict:
        own = data_dir / sub
        own.mkdir(exist_ok=True)
        env = effects_env(base_env, model_standin, own, log_file, executor)
        env.update(DATABASE_URL=url, JWT_SECRET_KEY="shared-approvals-test-secret-0123456789")
        return env

    b = ProcessServer(env_for("appr-b", "b")).start()
    a = None
    try:
        async with httpx.AsyncClient(base_url=b.url, timeout=30) as client:
            user = await register(client)
            task_id = await start_task(client, user, script)
            [pending] = await pending_of(client, user, task_id)
        assert executors(url)[task_id] == "appr-b"
        a = ProcessServer(env_for("appr-a", "a")).start()
        async with httpx.AsyncClient(base_url=a.url, timeout=30) as client:
            resp = await client.post(f"/api/approvals/{pending['id']}", headers=user.headers,
                                     json={"decision": "approve"})
            assert resp.status_code == 200, resp.text
            task = await wait_final(client, user.headers, task_id)
    finally:
        b.stop()
        if a is not None:
            a.stop()
    assert task["status"] == "completed", task
    assert executors(url)[task_id] == "appr-b"
    assert effect_lines(log_file) == [f"wipe {script}"]
