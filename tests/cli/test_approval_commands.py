"""`crazy-gary approvals …`, run as subprocesses against the served instance: a task whose
policy asks before every call waits; ls, show, approve with edited arguments, deny, 409,
and `watch` answering from stdin."""

from __future__ import annotations

import json

from crazy_gary.client import AsyncClient
from tests.client.helpers import signed_in
from tests.tasks.helpers import marker, tag

PLAN = {"content": "1. Write\n2. Answer"}


def write(path: str, content: str) -> dict:
    return {"tool_calls": [{"name": "workspace__write_file",
                            "arguments": {"path": path, "content": content}}]}


async def start_asking_task(gary: AsyncClient, model_standin, script: str, path: str) -> str:
    model_standin.script(script, [PLAN, write(path, "asked"), write(path, "again"),
                                  {"content": "Written."}])
    created = await gary.tasks.create("Write", f"Write it. {marker(script)}", auto_start=True,
                                      tool_policy={"default": "ask"}, tools=["workspace.*"])
    return created.task_id


async def test_approvals_ls_show_approve_deny(signed_in_cli, server, user, model_standin,
                                              tmp_path):
    cli = signed_in_cli
    script = tag("cli-appr")
    path = f"{script}.txt"
    gary = await signed_in(server, user)
    try:
        task_id = await start_asking_task(gary, model_standin, script, path)
        [pending] = await gary.approvals.wait_pending(task_id, within=30)

        listed = cli("approvals", "ls", "--status", "pending", "--json")
        assert listed.code == 0, listed.err
        assert [a["id"] for a in json.loads(listed.out)] == [pending.id]
        table = cli("approvals", "ls")
        assert table.code == 0 and pending.id in table.out and "workspace.write_file" in table.out
        shown = cli("approvals", "show", pending.id)
        assert shown.code == 0 and "workspace.write_file" in shown.out and "asked" in shown.out
        assert json.loads(cli("approvals", "show", pending.id, "--json").out)["status"] == (
            "pending")

        bad_json = cli("approvals", "approve", pending.id, "--arguments", "{nope")
        assert bad_json.code == 1 and "not JSON" in bad_json.err
        assert "Traceback" not in bad_json.err + bad_json.out
        schema = cli("approvals", "approve", pending.id, "--arguments",
                     json.dumps({"path": path, "content": 5}))
        assert schema.code == 1 and "VALIDATION_ERROR" in schema.err

        edited = tmp_path / "args.json"
        edited.write_text(json.dumps({"path": path, "content": "edited"}))
        approved = cli("approvals", "approve", pending.id, "--arguments", f"@{edited}",
                       "--comment", "ok", "--json")
        assert approved.code == 0, approved.err
        body = json.loads(approved.out)
        assert (body["status"], body["comment"]) == ("approved", "ok")
        assert body["decided_arguments"] == {"path": path, "content": "edited"}

        twice = cli("approvals", "deny", pending.id)
        assert twice.code == 1 and "CONFLICT" in twice.err and "HTTP 409" in twice.err
        assert "Traceback" not in twice.err + twice.out
        twice_json = cli("approvals", "approve", pending.id, "--json")
        assert twice_json.code == 1 and json.loads(twice_json.out)["code"] == "CONFLICT"

        [second] = await gary.approvals.wait_pending(task_id, within=30)
        denied = cli("approvals", "deny", second.id, "--comment", "once is enough")
        assert denied.code == 0, denied.err
        assert f"Approval {second.id} (workspace.write_file) denied." in denied.out

        task = await gary.tasks.wait(task_id, within=30)
        assert task.status == "completed"
        assert await gary.files.download(path) == b"edited"
        missing = cli("approvals", "show", "appr_missing")
        assert missing.code == 1 and "APPROVAL_NOT_FOUND" in missing.err
        everyone = cli("approvals", "ls", "--all")
        assert everyone.code == 1 and "INSUFFICIENT_PERMISSIONS" in everyone.err
    finally:
        await gary.aclose()


async def test_approvals_watch_answers_from_stdin(signed_in_cli, server, user, model_standin):
    cli = signed_in_cli
    script = tag("cli-watch")
    path = f"{script}.txt"
    gary = await signed_in(server, user)
    try:
        task_id = await start_asking_task(gary, model_standin, script, path)
        answers = "\n".join([
            "e", json.dumps({"path": path, "content": 5}),  # refused by the schema: asked again
            "e", json.dumps({"path": path, "content": "watched"}),
            "n", "not twice", ""])
        watched = cli("approvals", "watch", "--task", task_id, "--json", input=answers)
        assert watched.code == 0, watched.err
        decided = [line["data"] for line in watched.lines()]
        assert [d["status"] for d in decided] == ["approved", "denied"]
        assert decided[0]["decided_arguments"] == {"path": path, "content": "watched"}
        assert decided[1]["comment"] == "not twice"
        assert "Refused" in watched.err and "workspace.write_file" in watched.err
        task = await gary.tasks.wait(task_id, within=30)
        assert task.status == "completed"
        assert await gary.files.download(path) == b"watched"
    finally:
        await gary.aclose()
