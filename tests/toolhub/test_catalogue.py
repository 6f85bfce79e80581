"""Listing, search ranking and status against the real time and git servers."""

from __future__ import annotations

from tests.toolhub.conftest import wait_connected


async def test_lists_every_tool_of_every_connected_client(client, user):
    await wait_connected(client, user.headers, "time")
    await wait_connected(client, user.headers, "git")
    resp = await client.get("/api/mcp/tools", headers=user.headers)
    assert resp.status_code == 200
    tools = resp.json()
    by_client = {}
    for tool in tools:
        assert set(tool) == {"name", "description", "schema", "client", "effects"}
        by_client.setdefault(tool["client"], set()).add(tool["name"])
    assert {"get_current_time", "convert_time"} <= by_client["time"]
    assert {"git_status", "git_log", "git_diff"} <= by_client["git"]
    assert by_client["workspace"] == {"list_files", "read_file", "write_file", "search_code"}
    assert int(resp.headers["X-Total-Count"]) == len(tools)
    time_tool = next(t for t in tools if t["name"] == "get_current_time")
    assert "timezone" in time_tool["schema"]["properties"]


async def test_tools_need_a_signed_in_user(client):
    resp = await client.get("/api/mcp/tools")
    assert resp.status_code == 401
    assert resp.json()["code"] == "AUTH_REQUIRED"


async def test_tools_of_one_client_and_unknown_client(client, user):
    await wait_connected(client, user.headers, "time")
    resp = await client.get("/api/mcp/tools/time", headers=user.headers)
    assert resp.status_code == 200
    assert sorted(t["name"] for t in resp.json()) == ["convert_time", "get_current_time"]
    assert all(t["client"] == "time" for t in resp.json())

    resp = await client.get("/api/mcp/tools/workspace", headers=user.headers)
    assert [t["name"] for t in resp.json()][:1] == ["list_files"]

    resp = await client.get("/api/mcp/tools/no-such-client", headers=user.headers)
    assert resp.status_code == 404
    assert resp.json()["code"] == "NOT_FOUND"


async def test_search_ranks_by_relevance(client, user):
    await wait_connected(client, user.headers, "time")
    await wait_connected(client, user.headers, "git")

    async def search(query, **params):
        resp = await client.get("/api/mcp/tools/search", params={"query": query, **params},
                                headers=user.headers)
        assert resp.status_code == 200, resp.text
        return [(t["client"], t["name"]) for t in resp.json()]

    assert (await search("current time in a timezone"))[0] == ("time", "get_current_time")
    assert (await search("convert time between timezones"))[0] == ("time", "convert_time")
    assert (await search("commit"))[0] == ("git", "git_commit")
    assert (await search("search code"))[0] == ("workspace", "search_code")
    # parameter names count too: only write_file has a "content" parameter here
    assert (await search("content"))[0] == ("workspace", "write_file")
    assert len(await search("git", limit=3)) == 3
    assert await search("zzzqqq-nothing-matches") == []

    resp = await client.get("/api/mcp/tools/search", headers=user.headers)
    assert resp.status_code == 400
    assert resp.json()["code"] == "VALIDATION_ERROR"


async def test_status_reports_clients_tools_and_latency(client, user):
    await wait_connected(client, user.headers, "time")
    await wait_connected(client, user.headers, "git")
    await client.post("/api/mcp/execute", headers=user.headers, json={
        "client_name": "time", "tool_name": "get_current_time",
        "parameters": {"timezone": "UTC"}})
    resp = await client.get("/api/mcp/status", headers=user.headers)
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] in {"healthy", "degraded"}
    assert {"time", "git", "workspace"} <= set(body["connected_clients"])
    assert body["available_tools"] >= 18
    assert body["last_health_check"].endswith("Z")
    time_client = body["clients"]["time"]
    assert time_client["status"] == "connected"
    assert time_client["tool_count"] == 2
    assert time_client["last_error"] is None
    assert time_client["last_call_latency_ms"] > 0


async def test_mcp_health_check_is_registered(server, client, user):
    from crazy_gary import runtime

    await wait_connected(client, user.headers, "time")
    report = server.run_coro(runtime.current().health_checks["mcp"]())
    assert report["status"] in {"healthy", "degraded"}
    assert "time" in report["connected_clients"]
