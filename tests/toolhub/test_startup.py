"""A real `crazy-gary serve` with an mcp.json: start-up never waits on slow servers."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tests.support import ProcessServer, free_port, register, wait_http
from tests.toolhub.conftest import wait_until
from tests.toolhub.servers import FAKE_SERVER, fake_server, time_server


async def test_start_up_does_not_wait_and_http_server_reconnects(tmp_path):
    data_dir = Path(tempfile.mkdtemp(prefix="cg-toolhub-"))
    port = free_port()
    config = {"mcpServers": {
        "time": {**time_server(), "timeout": 30},
        "stuck": fake_server("--hang-on-start", connectTimeout=600),
        "remote": {"url": f"http://127.0.0.1:{port}/mcp"},
        "off": {"command": "/nonexistent", "disabled": True},
    }}
    (data_dir / "mcp.json").write_text(json.dumps(config))
    # Its own embedded database and executor id: nothing inherited from the shared server.
    env = {"CRAZY_GARY_DATA_DIR": str(data_dir), "MCP_CONFIG": str(data_dir / "mcp.json"),
           "DATABASE_URL": "", "REDIS_URL": "", "CRAZY_GARY_EXECUTOR_ID": "toolhub-startup",
           "RATE_LIMITS_ENABLED": "false", "ENVIRONMENT": "test",
           "MCP_BACKOFF_INITIAL_SECONDS": "0.2", "MCP_BACKOFF_MAX_SECONDS": "1",
           "MCP_PING_INTERVAL_SECONDS": "1"}
    srv = ProcessServer(env).start()  # returns once /health/live answers
    remote = None
    try:
        async with httpx.AsyncClient(base_url=srv.url, timeout=30) as client:
            user = await register(client)

            async def status():
                return (await client.get("/api/mcp/status", headers=user.headers)).json()

            # the API answers while "stuck" never finishes its handshake and "remote" is down
            body = await status()
            assert set(body["clients"]) == {"workspace", "time", "stuck", "remote"}
            assert body["clients"]["stuck"]["status"] == "connecting"
            assert body["clients"]["time"]["call_timeout_seconds"] == 30
            await wait_until(lambda: _client_status(status, "time", "connected"), 60, 0.1)
            await wait_until(lambda: _client_status(status, "remote", "failed"), 60, 0.1)
            assert (await status())["status"] == "degraded"

            # the remote server comes up later: the hub connects by itself
            remote = _start_http(port)
            await wait_until(lambda: _client_status(status, "remote", "connected"), 60, 0.1)
            resp = await client.post("/api/mcp/execute", headers=user.headers, json={
                "client_name": "remote", "tool_name": "echo", "parameters": {"text": "hi"}})
            assert resp.json()["success"] is True

            # it dies: the ping notices without any call, and it is retried from then on
            remote.kill()
            remote.wait(10)
            await wait_until(lambda: _client_status(status, "remote", "failed"), 60, 0.1)
            body = await status()
            assert body["clients"]["remote"]["last_error"]
            assert body["clients"]["stuck"]["status"] == "connecting"
            assert "time" in body["connected_clients"]
    finally:
        srv.stop()
        if remote is not None:
            remote.kill()
            remote.wait(10)


async def _client_status(status, name: str, wanted: str) -> bool:
    return (await status())["clients"][name]["status"] == wanted


def _start_http(port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, str(FAKE_SERVER), "--http", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            wait_http(f"http://127.0.0.1:{port}/mcp", timeout=1)
            return proc
        except TimeoutError:
            if proc.poll() is not None:
                raise
    raise TimeoutError("the HTTP MCP server did not start")
