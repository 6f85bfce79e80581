"""The client commands of `crazy-gary`, run as subprocesses against the served instance."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import stat

from crazy_gary.client import AsyncClient
from tests.tasks.helpers import marker, tag

PLAN = {"content": "1. Think\n2. Answer"}


def assert_clean_error(result, *fragments: str) -> None:
    assert result.code == 1
    assert "Traceback" not in result.err + result.out
    for fragment in fragments:
        assert fragment in result.err + result.out, (result.err, result.out)


async def test_login_stores_0600_credentials_and_logout_removes_them(cli, user):
    cli.login(user)
    assert stat.S_IMODE(cli.credentials.stat().st_mode) == 0o600
    stored = json.loads(cli.credentials.read_text())
    assert stored["url"] == cli.url and stored["refresh_token"]
    listed = cli("tasks", "ls", "--json")
    assert listed.code == 0, listed.err
    assert isinstance(json.loads(listed.out), list)
    rotated = json.loads(cli.credentials.read_text())["refresh_token"]
    assert rotated != stored["refresh_token"]  # the spent refresh token was replaced
    assert cli("tasks", "ls", "--json").code == 0  # and the new one works

    token = cli("token").out.strip()
    scripted = cli("tasks", "ls", "--json", env={"CRAZY_GARY_TOKEN": token,
                                                  "XDG_CONFIG_HOME": str(cli.home / "none")})
    assert scripted.code == 0, scripted.err

    wrong = cli("login", "--url", cli.url, input=f"{user.email}\nnot-the-password-1\n")
    assert_clean_error(wrong, "Email or password incorrect", "INVALID_CREDENTIALS",
                       "request id req_")
    out = cli("logout")
    assert out.code == 0 and not cli.credentials.exists()
    assert_clean_error(cli("tasks", "ls"), "Not signed in")


async def test_run_follows_to_completion_and_exits_0(signed_in_cli, model_standin):
    script = tag("cli-run")
    model_standin.script(script, [
        PLAN,
        {"tool_calls": [{"name": "workspace__write_file",
                         "arguments": {"path": f"{script}.md", "content": "notes"}}]},
        {"content": "# Done\n\nWrote **the notes**."}], by="turn")
    shown = signed_in_cli("run", f"Write notes {marker(script)}", "--priority", "high")
    assert shown.code == 0, shown.err
    assert "Plan" in shown.out and "1. Think" in shown.out
    assert "workspace.write_file" in shown.out and "path=" in shown.out
    assert "Answer" in shown.out and "Wrote the notes." in shown.out  # Markdown rendered

    script = tag("cli-json")
    model_standin.script(script, [PLAN, {"content": "JSON answer."}], by="turn")
    done = signed_in_cli("run", f"Answer {marker(script)}", "--json", "--max-steps", "3")
    assert done.code == 0, done.err
    lines = done.lines()
    events, result = lines[:-1], lines[-1]
    assert result["event"] == "result" and result["data"]["status"] == "completed"
    assert result["data"]["result"]["answer"] == "JSON answer."
    ids = [e["id"] for e in events]
    assert ids == sorted(set(ids)) and events[-1]["event"] == "task_completed"
    assert {e["data"]["task_id"] for e in events} == {result["data"]["id"]}


async def test_run_exits_1_when_the_task_fails(signed_in_cli, model_standin):
    script = tag("cli-fail")
    model_standin.script(script, [PLAN] + [
        {"tool_calls": [{"name": "workspace__list_files", "arguments": {}}]}] * 3, by="turn")
    failed = signed_in_cli("run", f"Loop {marker(script)}", "--max-steps", "1", "--json")
    assert failed.code == 1, failed.err
    result = failed.lines()[-1]["data"]
    assert result["status"] == "failed" and result["error"]["code"] == "MAX_STEPS_EXCEEDED"
    shown = signed_in_cli("tasks", "show", result["id"])
    assert shown.code == 0 and "MAX_STEPS_EXCEEDED" in shown.out


async def test_tasks_stop_show_and_clean_conflict(signed_in_cli, server, user, model_standin):
    script = tag("cli-stop")
    model_standin.script(script, [{"content": "1. Wait", "delay": 30}])
    async with AsyncClient(server.url) as gary:
        await gary.auth.login(user.email, user.password)
        created = await gary.tasks.create("Slow", f"Wait {marker(script)}", auto_start=True)
    stopped = signed_in_cli("tasks", "stop", created.task_id, "--json")
    assert stopped.code == 0, stopped.err
    assert json.loads(stopped.out) == {"task_id": created.task_id, "status": "stopped"}
    shown = signed_in_cli("tasks", "show", created.task_id, "--json")
    assert json.loads(shown.out)["status"] == "stopped"
    followed = signed_in_cli("tasks", "follow", created.task_id)
    assert followed.code == 1 and "Stopped" in followed.out
    again = signed_in_cli("tasks", "stop", created.task_id, "--json")
    assert again.code == 1
    error = json.loads(again.out)
    assert error["code"] == "CONFLICT" and error["request_id"].startswith("req_")
    missing = signed_in_cli("tasks", "show", "task_nope")
    assert_clean_error(missing, "Task task_nope not found", "TASK_NOT_FOUND", "request id req_")


async def test_chat_one_message_and_interactive(signed_in_cli, model_standin):
    script = tag("cli-chat")
    model_standin.script(script, [{"content": "First answer."}, {"content": "Second answer."},
                                  {"content": "Third answer."}])
    one = signed_in_cli("chat", f"Hi {marker(script)}", "--json")
    assert one.code == 0, one.err
    first = json.loads(one.out)
    assert first["response"] == "First answer."
    talk = signed_in_cli("chat", "--conversation", first["conversation_id"],
                         input=f"Next {marker(script)}\nLast {marker(script)}\nexit\n")
    assert talk.code == 0, talk.err
    assert "Second answer." in talk.out and "Third answer." in talk.out
    history = model_standin.requests(script)[-1]["messages"]
    assert any(m.get("content") == "Second answer." for m in history)


async def test_tools_call_and_files_put_get(signed_in_cli, tmp_path):
    name = tag("cli-file")
    wrote = signed_in_cli("tools", "call", "workspace.write_file", "--arg", f"path={name}.txt",
                          "--arg", "content=hello from a tool", "--json")
    assert wrote.code == 0, wrote.err
    assert json.loads(wrote.out)["success"] is True
    read = signed_in_cli("tools", "call", "workspace.read_file", "--arg", f"path={name}.txt")
    assert read.code == 0 and "hello from a tool" in read.out
    missing = signed_in_cli("tools", "call", "workspace.read_file", "--arg", "path=nope.txt")
    assert missing.code == 1 and "failed" in missing.out
    found = signed_in_cli("tools", "search", "read a file", "--json")
    assert "read_file" in [t["name"] for t in json.loads(found.out)]

    local = tmp_path / "upload.bin"
    local.write_bytes(bytes(range(256)) * 10)
    put = signed_in_cli("files", "put", str(local), f"{name}/data.bin", "--json")
    assert put.code == 0, put.err
    assert json.loads(put.out) == {**json.loads(put.out), "path": f"{name}/data.bin",
                                   "size": 2560}
    back = tmp_path / "back.bin"
    got = signed_in_cli("files", "get", f"{name}/data.bin", str(back))
    assert got.code == 0, got.err
    assert back.read_bytes() == local.read_bytes()
    listed = json.loads(signed_in_cli("files", "ls", name, "--json").out)
    assert [f["path"] for f in listed] == [f"{name}/data.bin"]
    assert signed_in_cli("files", "rm", f"{name}/data.bin").code == 0
    assert_clean_error(signed_in_cli("files", "get", f"{name}/data.bin", str(back)),
                       "NOT_FOUND")


async def test_health_endpoints_and_heavy(signed_in_cli, tmp_path):
    up = signed_in_cli("health", "--json")
    assert up.code == 0, up.out
    assert json.loads(up.out)["ready"]["status"] == "ready"
    status = json.loads(signed_in_cli("endpoints", "status", "--json").out)
    assert set(status["endpoints"]) == {"120b", "20b"}
    assert_clean_error(signed_in_cli("endpoints", "sleep"), "INSUFFICIENT_PERMISSIONS")
    workflow = tmp_path / "flow.json"
    workflow.write_text(json.dumps({"workflow": [
        {"step": 1, "tool": "wait", "name": "First", "parameters": {"seconds": 0.1}},
        {"step": 2, "tool": "wait", "name": "Second", "parameters": {"seconds": 0.1}}]}))
    ran = signed_in_cli("heavy", "run", str(workflow), "--follow", "--json")
    assert ran.code == 0, ran.err
    lines = ran.lines()
    assert lines[-1]["event"] == "result" and lines[-1]["data"]["status"] == "completed"
    shown = signed_in_cli("heavy", "run", str(workflow), "--follow")
    assert shown.code == 0 and "Second" in shown.out and "completed" in shown.out


async def test_interrupted_run_without_a_terminal_leaves_the_task_running(
        signed_in_cli, server, user, model_standin):
    script = tag("cli-int")
    model_standin.script(script, [{"content": "1. Wait"}, {"content": "Late.", "delay": 30}],
                         by="turn")
    proc = signed_in_cli.spawn("run", f"Wait {marker(script)}", "--json")
    first = json.loads(proc.stdout.readline())  # following: the task exists and runs
    task_id = first["data"]["task_id"]
    os.kill(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert f"Task {task_id} keeps running" in err and "Traceback" not in err
    async with AsyncClient(server.url) as gary:
        await gary.auth.login(user.email, user.password)
        assert (await gary.tasks.get(task_id)).status == "running"
        await gary.tasks.stop(task_id)
    # the engine aborts the cancelled model call within about a second; let it, so the
    # stand-in holds no request when the session stops it
    await asyncio.sleep(3)
