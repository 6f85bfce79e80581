"""Execution against real MCP servers: time, git, filesystem (npm) and a streamable-HTTP one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import free_port, wait_http
from tests.toolhub.conftest import wait_connected
from tests.toolhub.servers import FAKE_SERVER, FILESYSTEM_SERVER, filesystem_available


async def execute(client, user, client_name, tool, parameters, **extra):
    return await client.post("/api/mcp/execute", headers=user.headers, json={
        "client_name": client_name, "tool_name": tool, "parameters": parameters, **extra})


async def test_time_tool_runs_and_returns_structured_result(client, user):
    await wait_connected(client, user.headers, "time")
    resp = await execute(client, user, "time", "get_current_time", {"timezone": "Europe/Paris"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["success"] is True
    assert body["result"]["timezone"] == "Europe/Paris"
    assert "datetime" in body["result"]
    assert body["latency_ms"] > 0


async def test_invalid_parameters_are_refused_before_the_call(client, user):
    await wait_connected(client, user.headers, "time")
    resp = await execute(client, user, "time", "convert_time", {"source_timezone": 42})
    assert resp.status_code == 400
    body = resp.json()
    assert body["code"] == "VALIDATION_ERROR"
    errors = body["details"]["validation_errors"]
    assert any("source_timezone" in e and "string" in e for e in errors)
    assert any("'time' is a required property" in e for e in errors)
    assert any("target_timezone" in e for e in errors)


async def test_tool_error_is_success_false_with_its_message(client, user):
    await wait_connected(client, user.headers, "time")
    resp = await execute(client, user, "time", "get_current_time", {"timezone": "Nowhere/Void"})
    assert resp.status_code == 200
    body = resp.json()
    assert body["success"] is False
    assert "Nowhere/Void" in body["error"]


async def test_unknown_client_or_tool_is_404(client, user):
    resp = await execute(client, user, "nope", "get_current_time", {})
    assert resp.status_code == 404
    resp = await execute(client, user, "time", "no_such_tool", {})
    assert resp.status_code == 404
    assert "no_such_tool" in resp.json()["error"]


async def test_malformed_execute_body_is_validation_error(client, user):
    resp = await client.post("/api/mcp/execute", headers=user.headers,
                             json={"tool_name": "x", "parameters": []})
    assert resp.status_code == 400
    assert resp.json()["code"] == "VALIDATION_ERROR"


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


async def test_git_server_on_a_repository_the_test_creates(client, user, tmp_path):
    await wait_connected(client, user.headers, "git")
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "t@example.com")
    _git(repo, "config", "user.name", "Tester")
    (repo / "hello.txt").write_text("hello\n")
    _git(repo, "add", "hello.txt")
    _git(repo, "commit", "-q", "-m", "first commit from the test")
    (repo / "hello.txt").write_text("hello again\n")

    resp = await execute(client, user, "git", "git_log", {"repo_path": str(repo)})
    body = resp.json()
    assert body["success"] is True, body
    assert "first commit from the test" in str(body["result"])

    resp = await execute(client, user, "git", "git_status", {"repo_path": str(repo)})
    assert "hello.txt" in str(resp.json()["result"])

    resp = await execute(client, user, "git", "git_diff_unstaged", {"repo_path": str(repo)})
    assert "+hello again" in str(resp.json()["result"])

    resp = await execute(client, user, "git", "git_log", {"repo_path": str(tmp_path / "none")})
    assert resp.status_code == 200
    assert resp.json()["success"] is False


@pytest.mark.skipif(not filesystem_available(), reason="node or the npm filesystem server missing")
async def test_npm_filesystem_server(client, user, add_server, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "notes.md").write_text("# Notes\nremember the milk\n")
    name = add_server({"command": str(FILESYSTEM_SERVER), "args": [str(shared)]}, "fs")
    await wait_connected(client, user.headers, name, seconds=60)
    tools = (await client.get(f"/api/mcp/tools/{name}", headers=user.headers)).json()
    assert {"read_text_file", "list_directory", "write_file"} <= {t["name"] for t in tools}

    resp = await execute(client, user, name, "list_directory", {"path": str(shared)})
    assert resp.json()["success"] is True
    assert "notes.md" in str(resp.json()["result"])
    resp = await execute(client, user, name, "read_text_file", {"path": str(shared / "notes.md")})
    assert "remember the milk" in str(resp.json()["result"])
    # the server's own confinement: outside its allowed directory is the tool's error
    resp = await execute(client, user, name, "read_text_file", {"path": "/etc/hostname"})
    assert resp.json()["success"] is False


@pytest.fixture
def http_mcp_server():
    """The fake MCP server over streamable HTTP in its own process."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(FAKE_SERVER), "--http", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(f"http://127.0.0.1:{port}/mcp", timeout=30)
        yield f"http://127.0.0.1:{port}/mcp", proc, port
    finally:
        proc.kill()
        proc.wait(10)


async def test_streamable_http_server(client, user, add_server, http_mcp_server):
    url, _proc, _port = http_mcp_server
    name = add_server({"url": url, "headers": {"X-Test": "yes"}}, "http")
    await wait_connected(client, user.headers, name)
    status = (await client.get("/api/mcp/status", headers=user.headers)).json()
    assert status["clients"][name]["transport"] == "streamable-http"
    resp = await execute(client, user, name, "add", {"a": 2, "b": 40})
    assert resp.json()["success"] is True
    assert resp.json()["result"] in (42, {"result": 42})
    resp = await execute(client, user, name, "add", {"a": "two", "b": 40})
    assert resp.status_code == 400
    resp = await execute(client, user, name, "fail", {"message": "kaboom"})
    assert resp.json()["success"] is False
    assert "kaboom" in resp.json()["error"]
    # same tool names on two clients are fine
    search = (await client.get("/api/mcp/tools/search", headers=user.headers,
                               params={"query": "add two integers"})).json()
    assert (search[0]["client"], search[0]["name"]) == (name, "add")
