"""The client's approvals area against the real served instance: a task whose policy asks
before every call waits; list, approve with edited arguments, deny, 409, 404, 400."""

from __future__ import annotations

import asyncio

import pytest

from crazy_gary.client import Client, ConflictError, NotFoundError, ValidationError
from tests.client.helpers import signed_in
from tests.tasks.helpers import marker, tag

PLAN = {"content": "1. Write\n2. Answer"}
ASK = {"default": "ask"}


def write(path: str, content: str) -> dict:
    return {"tool_calls": [{"name": "workspace__write_file",
                            "arguments": {"path": path, "content": content}}]}


async def test_approve_with_edited_arguments_deny_and_conflict(server, user, other_user,
                                                               model_standin):
    script = tag("cl-appr")
    path = f"{script}.txt"
    model_standin.script(script, [PLAN, write(path, "asked"), write(path, "again"),
                                  {"content": "Written."}])
    gary = await signed_in(server, user)
    other = await signed_in(server, other_user)
    try:
        created = await gary.tasks.create("Write", f"Write it. {marker(script)}",
                                          auto_start=True, tool_policy=ASK,
                                          tools=["workspace.*"])
        [pending] = await gary.approvals.wait_pending(created.task_id, within=30)
        assert (pending.tool, pending.status) == ("workspace.write_file", "pending")
        assert pending.arguments == {"path": path, "content": "asked"}

        listed = await gary.approvals.list(status="pending")
        assert [a.id for a in listed.items] == [pending.id] and listed.total == 1
        assert (await gary.approvals.list(status="approved")).items == []
        assert (await gary.approvals.get(pending.id)).task_id == created.task_id
        with pytest.raises(NotFoundError):
            await other.approvals.get(pending.id)
        with pytest.raises(NotFoundError) as theirs:
            await other.approvals.approve(pending.id)
        assert theirs.value.code == "APPROVAL_NOT_FOUND"
        with pytest.raises(ValidationError):  # breaks write_file's schema: nothing decided
            await gary.approvals.approve(pending.id, arguments={"path": path, "content": 5})

        approved = await gary.approvals.approve(
            pending.id, arguments={"path": path, "content": "edited"}, comment="fine")
        assert approved.status == "approved" and approved.comment == "fine"
        assert approved.decided_arguments == {"path": path, "content": "edited"}
        with pytest.raises(ConflictError) as twice:
            await gary.approvals.deny(pending.id)
        assert twice.value.code == "CONFLICT" and twice.value.status_code == 409

        # the second call asks too: deny it, with a comment for the model
        second = await gary.approvals.wait_pending(created.task_id, within=30)
        [again] = [a for a in second if a.id != pending.id]
        denied = await gary.approvals.deny(again.id, comment="once is enough")
        assert (denied.status, denied.comment) == ("denied", "once is enough")

        task = await gary.tasks.wait(created.task_id, within=30)
        assert task.status == "completed" and task.pending_approvals == []
        assert await gary.files.download(path) == b"edited"
        told = [m["content"] for m in model_standin.requests(script)[-1]["messages"]
                if m["role"] == "tool"]
        assert "declined" in told[-1] and "once is enough" in told[-1]
        decided = await gary.approvals.list(limit=1)
        assert decided.total == 2 and decided.has_more
        assert {a.status async for a in gary.approvals.iter(page_size=1)} == {"approved",
                                                                              "denied"}
        # a task that has ended: nothing more to wait for
        assert await gary.approvals.wait_pending(created.task_id, within=5) == []
    finally:
        await gary.aclose()
        await other.aclose()


async def test_sync_client_approvals(server, user, model_standin):
    script = tag("cl-appr-sync")
    model_standin.script(script, [PLAN, write(f"{script}.txt", "x"), {"content": "Done."}])

    def drive() -> tuple[str, str]:
        with Client(server.url) as gary:
            gary.auth.login(user.email, user.password)
            created = gary.tasks.create("Write", f"Write. {marker(script)}", auto_start=True,
                                        tool_policy=ASK, tools=["workspace.*"])
            [pending] = gary.approvals.wait_pending(created.task_id, within=30)
            assert [a.id for a in gary.approvals.iter(status="pending")] == [pending.id]
            decided = gary.approvals.deny(pending.id)
            with pytest.raises(ConflictError):
                gary.approvals.approve(pending.id)
            return decided.status, gary.tasks.wait(created.task_id, within=30).status

    assert await asyncio.to_thread(drive) == ("denied", "completed")
