"""The client's calls for every area, against the real served instance."""

from __future__ import annotations

import pytest

from crazy_gary.client import (
    AsyncClient,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDenied,
    ValidationError,
)
from tests.client.helpers import signed_in
from tests.support import unique_email
from tests.tasks.helpers import marker, tag

PLAN = {"content": "1. Look\n2. Answer"}


async def test_auth_register_login_me_logout(server):
    email = unique_email("client")
    seen: list[tuple] = []
    async with AsyncClient(server.url, on_tokens=lambda t, r: seen.append((t, r))) as gary:
        created = await gary.auth.register(email, "Passw0rd-123", full_name="Cli Ent")
        assert created.user.email == email and seen[-1][0] == created.token
        me = await gary.auth.me()
        assert (me.id, me.name) == (created.user.id, "Cli Ent")
        assert (await gary.auth.update_me(name="Renamed")).name == "Renamed"
        assert (await gary.auth.validate()).valid is True
        assert (await gary.users.get(me.id))["username"] == me.username
        with pytest.raises(PermissionDenied) as denied:
            await gary.users.list()
        assert denied.value.code == "INSUFFICIENT_PERMISSIONS"
        assert denied.value.request_id and denied.value.request_id.startswith("req_")
        await gary.auth.logout()
        assert seen[-1] == (None, None) and gary.token is None
        with pytest.raises(AuthenticationError) as signed_out:
            await gary.auth.me()
        assert signed_out.value.code == "AUTH_REQUIRED"
    async with AsyncClient(server.url) as again:
        with pytest.raises(AuthenticationError) as wrong:
            await again.auth.login(email, "not-the-password-1")
        assert wrong.value.code == "INVALID_CREDENTIALS" and wrong.value.status_code == 401
        with pytest.raises(ConflictError) as taken:
            await again.auth.register(email, "Passw0rd-123")
        assert taken.value.code == "USER_EXISTS"
        with pytest.raises(ValidationError) as weak:
            await again.auth.register(unique_email(), "short")
        assert weak.value.problems


async def test_admin_users_pages(server, admin):
    gary = await signed_in(server, admin)
    try:
        made = [await gary.users.create(username=f"cl-{tag('u')}", email=unique_email("cl"))
                for _ in range(3)]
        first = await gary.users.list(limit=2)
        assert len(first.items) == 2 and first.has_more and first.total >= 4
        assert first.next_url and "offset=2" in first.next_url
        every = [u["id"] async for u in gary.users.iter(page_size=2)]
        assert len(every) == first.total and len(set(every)) == len(every)
        assert {u["id"] for u in made} <= set(every)
        changed = await gary.users.update(made[0]["id"], name="Changed")
        assert changed["name"] == "Changed"
        await gary.users.delete(made[0]["id"])
        with pytest.raises(NotFoundError):
            await gary.users.get(made[0]["id"])
    finally:
        await gary.aclose()


async def test_tasks_create_start_follow_list_stop(server, user, model_standin):
    script = tag("cl-task")
    model_standin.script(script, [PLAN, {"content": "The answer is 42."}])
    gary = await signed_in(server, user)
    try:
        async with gary.events.subscribe() as sub:
            created = await gary.tasks.create("Client task", f"Answer. {marker(script)}",
                                              priority="high", max_steps=5)
            assert created.status == "created"
            assert (await gary.tasks.start(created.task_id)).status == "started"
            events = [e async for e in gary.tasks.follow(created.task_id, subscription=sub)]
        assert events[0].event == "task_created" and events[-1].event == "task_completed"
        assert any("plan" in e.data for e in events)
        assert [e.id for e in events] == sorted(e.id for e in events)
        done = await gary.tasks.get(created.task_id)
        assert done.status == "completed" and done.result["answer"] == "The answer is 42."
        assert [e async for e in gary.tasks.follow(created.task_id)] == []  # already ended

        slow = tag("cl-slow")
        model_standin.script(slow, [{"content": "1. Wait", "delay": 30}])
        stopping = await gary.tasks.create("Slow", f"Wait. {marker(slow)}", auto_start=True)
        assert (await gary.tasks.stop(stopping.task_id)).status == "stopped"
        assert (await gary.tasks.wait(stopping.task_id, within=10)).status == "stopped"
        with pytest.raises(ConflictError):
            await gary.tasks.stop(stopping.task_id)

        page = await gary.tasks.list(limit=1)
        assert page.items[0].id == stopping.task_id and page.has_more
        ids = [t.id async for t in gary.tasks.iter(page_size=1)]
        assert ids[:2] == [stopping.task_id, created.task_id]
        assert [t.id for t in (await gary.tasks.list(status="stopped")).items] == [
            stopping.task_id]
        stats = await gary.tasks.stats()
        assert stats.completed_tasks >= 1 and stats.total_tasks == len(ids)
    finally:
        await gary.aclose()


async def test_another_users_task_is_not_found(server, user, other_user):
    mine = await signed_in(server, user)
    theirs = await signed_in(server, other_user)
    try:
        created = await mine.tasks.create("Mine", "Only mine")
        with pytest.raises(NotFoundError) as missing:
            await theirs.tasks.get(created.task_id)
        assert missing.value.code == "TASK_NOT_FOUND"
    finally:
        await mine.aclose()
        await theirs.aclose()


async def test_chat_plain_and_streamed(server, user, model_standin):
    script = tag("cl-chat")
    answer = "Streaming answers arrive in many small pieces."
    model_standin.script(script, [{"content": "Plain answer."}, {"content": answer}])
    gary = await signed_in(server, user)
    try:
        plain = await gary.chat.send(f"Hello {marker(script)}")
        assert plain.response == "Plain answer." and plain.conversation_id.startswith("conv_")
        stream = gary.chat.stream(f"Again {marker(script)}",
                                  conversation_id=plain.conversation_id)
        tokens = [token async for token in stream]
        assert len(tokens) > 1 and "".join(tokens) == answer
        assert stream.done is not None and stream.done.response == answer
        assert stream.conversation_id == plain.conversation_id
        turn = await gary.tasks.get(stream.task_id)
        assert turn.status == "completed" and turn.conversation_id == plain.conversation_id
    finally:
        await gary.aclose()


async def test_tools_and_workspace_files(server, user):
    gary = await signed_in(server, user)
    try:
        catalogue = [t async for t in gary.tools.iter(page_size=5)]
        names = {f"{t.client}.{t.name}" for t in catalogue}
        assert "workspace.write_file" in names
        assert len(catalogue) == (await gary.tools.list(limit=1)).total
        assert [t.client for t in (await gary.tools.list(client="workspace")).items] and all(
            t.client == "workspace" for t in (await gary.tools.list(client="workspace")).items)
        found = await gary.tools.search("write a file", limit=3)
        assert "write_file" in [t.name for t in found]
        wrote = await gary.tools.execute("workspace", "write_file",
                                         {"path": "notes/a.txt", "content": "alpha"})
        assert wrote.success and wrote.latency_ms >= 0
        failed = await gary.tools.execute("workspace", "read_file", {"path": "missing.txt"})
        assert failed.success is False and failed.error
        with pytest.raises(NotFoundError):
            await gary.tools.execute("no-such-client", "x")
        assert (await gary.tools.status()).available_tools == len(catalogue)

        up = await gary.files.upload(b"\x00binary\xff", "data/blob.bin")
        assert (up.path, up.size) == ("data/blob.bin", 8)
        assert await gary.files.download("data/blob.bin") == b"\x00binary\xff"
        assert await gary.files.download("notes/a.txt") == b"alpha"
        listed = [f.path async for f in gary.files.iter()]
        assert {"notes/a.txt", "data/blob.bin"} <= set(listed)
        await gary.files.delete("data/blob.bin")
        with pytest.raises(NotFoundError):
            await gary.files.download("data/blob.bin")
    finally:
        await gary.aclose()


async def test_endpoints_heavy_monitoring_health(server, user, admin):
    gary = await signed_in(server, user)
    try:
        endpoints = await gary.endpoints.status()
        assert set(endpoints.endpoints) == {"120b", "20b"}
        assert (await gary.endpoints.status_of("20b")).provider == endpoints.endpoints[
            "20b"].provider
        assert (await gary.endpoints.wake()).success is True
        with pytest.raises(PermissionDenied):
            await gary.endpoints.sleep()
        with pytest.raises(NotFoundError):
            await gary.endpoints.status_of("7b")

        assert "wait" in {t.name for t in await gary.heavy.tools()}
        started = await gary.heavy.orchestrate({"workflow": [
            {"step": 1, "tool": "wait", "parameters": {"seconds": 0.1, "value": "one"}},
            {"step": 2, "tool": "wait", "parameters": {"seconds": 0.1, "value": "two"}}]})
        assert started.total_steps == 2
        finished = await gary.heavy.wait(started.orchestration_id, within=60)
        assert finished.status == "completed" and finished.progress == 100
        ran = await gary.heavy.execute_tool("llm_generate", {"prompt": "Say hello"})
        assert ran.success is True and ran.result
        with pytest.raises(ValidationError):
            await gary.heavy.execute_tool("wait", {"seconds": 0})

        assert (await gary.monitoring.health()).status
        assert "database" in (await gary.monitoring.health_detailed()).components
        assert (await gary.monitoring.metrics()).requests.total > 0
        with pytest.raises(PermissionDenied):  # incidents are opened by administrators
            await gary.monitoring.create_incident("Client incident", severity="low")
        staff = await signed_in(server, admin)
        try:
            created = await staff.monitoring.create_incident("Client incident", severity="low")
        finally:
            await staff.aclose()
        assert (await gary.monitoring.incident(created.id)).title == "Client incident"
        assert created.id in [i.id for i in (await gary.monitoring.incidents()).items]
        assert (await gary.monitoring.alerts()).total >= 0
        with pytest.raises(PermissionDenied):
            await gary.monitoring.request_logs()
        assert (await gary.monitoring.observability()).traces.total > 0
        assert isinstance(await gary.monitoring.traces(), list)
        assert (await gary.health.check()).service == "crazy-gary-api"
        assert (await gary.health.ready()).status in ("ready", "not ready")
        assert await gary.health.live() is True
    finally:
        await gary.aclose()
