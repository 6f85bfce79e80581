"""Servers that crash, hang or never start only affect themselves."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from crazy_gary.config import Settings
from crazy_gary.toolhub import ToolHub, get_hub
from crazy_gary.toolhub.servers import parse_server
from tests.toolhub.conftest import wait_connected, wait_until
from tests.toolhub.servers import fake_server


def value(body):
    """The SDK's servers wrap a plain return value as {"result": value}."""
    result = body["result"]
    return result["result"] if isinstance(result, dict) and set(result) == {"result"} else result


async def execute(client, user, name, tool, parameters, **extra):
    return await client.post("/api/mcp/execute", headers=user.headers, json={
        "client_name": name, "tool_name": tool, "parameters": parameters, **extra})


async def test_server_crashing_mid_call_is_reconnected(client, user, add_server):
    name = add_server(fake_server(), "crashy")
    await wait_connected(client, user.headers, name)
    first_pid = value((await execute(client, user, name, "whoami", {})).json())

    resp = await execute(client, user, name, "crash", {})
    assert resp.status_code == 503
    assert resp.json()["code"] == "MCP_CLIENT_UNAVAILABLE"

    # the hub notices, reports the error, and brings the server back with a new process
    info = await wait_connected(client, user.headers, name)
    assert info["reconnects"] >= 1
    assert info["last_error"]
    resp = await execute(client, user, name, "whoami", {})
    assert resp.json()["success"] is True
    assert value(resp.json()) != first_pid
    # the other clients never noticed
    resp = await execute(client, user, "time", "get_current_time", {"timezone": "UTC"})
    assert resp.json()["success"] is True


async def test_hanging_tool_times_out_and_others_are_unaffected(client, user, add_server):
    name = add_server(fake_server(timeout=5), "hangy")  # per-server timeout from mcp.json
    await wait_connected(client, user.headers, name)
    hanging = asyncio.create_task(execute(client, user, name, "sleep", {"seconds": 120}))
    await asyncio.sleep(0.2)
    # while that call hangs, other clients and the same session keep answering
    resp = await execute(client, user, "time", "get_current_time", {"timezone": "UTC"})
    assert resp.json()["success"] is True
    resp = await execute(client, user, name, "echo", {"text": "still here"})
    assert value(resp.json()) == "still here"
    assert not hanging.done()

    body = (await hanging).json()
    assert body.get("success") is False, body
    assert "timed out after 5 s" in body["error"]
    # the session is still usable after the timeout
    resp = await execute(client, user, name, "add", {"a": 1, "b": 1})
    assert value(resp.json()) == 2
    # an explicit per-call timeout overrides the server's
    resp = await execute(client, user, name, "sleep", {"seconds": 60}, timeout=0.5)
    assert "timed out after 0.5 s" in resp.json()["error"]


async def test_server_that_never_starts_is_failed_and_unavailable(client, user, add_server):
    name = add_server(fake_server("--hang-on-start", connectTimeout=1), "stuck")
    missing = add_server({"command": "/nonexistent/mcp-server"}, "missing")

    async def failed(n):
        resp = await client.get("/api/mcp/status", headers=user.headers)
        info = resp.json()["clients"][n]
        return resp.json() if info["status"] == "failed" and info["last_error"] else None

    status = await wait_until(lambda: failed(name), 30, 0.1)
    assert "Timeout" in status["clients"][name]["last_error"]
    status = await wait_until(lambda: failed(missing), 30, 0.1)
    assert status["clients"][missing]["last_error_at"]
    assert status["status"] == "degraded"
    assert name not in status["connected_clients"]
    assert "time" in status["connected_clients"]

    resp = await execute(client, user, name, "echo", {"text": "x"})
    assert resp.status_code == 503
    assert resp.json()["code"] == "MCP_CLIENT_UNAVAILABLE"
    assert resp.json()["details"]["client"] == name
    resp = await client.get(f"/api/mcp/tools/{name}", headers=user.headers)
    assert resp.status_code == 503
    tools = (await client.get("/api/mcp/tools", headers=user.headers)).json()
    assert all(t["client"] not in (name, missing) for t in tools)
    resp = await execute(client, user, "time", "get_current_time", {"timezone": "UTC"})
    assert resp.json()["success"] is True


@pytest.fixture
async def own_hub(tmp_path):
    """A hub of the test's own (no app), on the test's event loop."""
    settings = Settings(CRAZY_GARY_DATA_DIR=str(tmp_path), MCP_BACKOFF_INITIAL_SECONDS=0.2)
    hub = ToolHub(settings)
    await hub.start()
    yield hub
    await hub.close()


async def test_cancelled_call_leaves_the_session_usable(own_hub):
    connection = await own_hub.add_server(parse_server("fake", fake_server()))
    assert await connection.wait_connected(30)
    call = asyncio.create_task(own_hub.execute("fake", "sleep", {"seconds": 60}, user_id=1))
    await asyncio.sleep(0.3)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    result = await own_hub.execute("fake", "echo", {"text": "after cancel"}, user_id=1)
    assert result.success and "after cancel" in str(result.result)
    assert connection.reconnects == 0


async def test_hub_is_usable_from_another_event_loop(server):
    """Durable steps may run on another loop: the call is carried to the hub's loop."""
    result = await get_hub().execute("time", "get_current_time", {"timezone": "UTC"},
                                     user_id=1)
    assert result.success is True
    assert get_hub().loop is not asyncio.get_running_loop()


async def test_tool_list_changes_are_followed(own_hub):
    connection = await own_hub.add_server(parse_server("fake", fake_server()))
    assert await connection.wait_connected(30)
    assert "sprout" not in {t.name for t in own_hub.list_tools("fake")}
    result = await own_hub.execute("fake", "grow", {"name": "sprout"}, user_id=1)
    assert result.success, result.error
    await wait_until(lambda: "sprout" in {t.name for t in own_hub.list_tools("fake")}, 20)
    assert own_hub.search("sprout")[0].name == "sprout"
    result = await own_hub.execute("fake", "sprout", {}, user_id=1)
    assert "I am sprout" in str(result.result)


async def test_http_caller_that_gives_up_cancels_the_call(server, user, add_server, client):
    from prometheus_client import REGISTRY

    name = add_server(fake_server(), "giveup")
    await wait_connected(client, user.headers, name)

    def cancelled() -> float:
        return REGISTRY.get_sample_value("crazy_gary_tool_call_duration_seconds_count",
                                         {"client": name, "tool": "sleep",
                                          "outcome": "cancelled"}) or 0

    async with httpx.AsyncClient(base_url=server.url, timeout=1.0) as impatient:
        with pytest.raises(httpx.ReadTimeout):
            await impatient.post("/api/mcp/execute", headers=user.headers, json={
                "client_name": name, "tool_name": "sleep", "parameters": {"seconds": 60}})
    await wait_until(lambda: cancelled() >= 1, 20)
    resp = await execute(client, user, name, "echo", {"text": "fine"})
    assert value(resp.json()) == "fine"
