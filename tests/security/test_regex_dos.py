"""Issue 13, high: a user's regular expression froze the whole process (ReDoS)."""

from __future__ import annotations

import asyncio
import time

import pytest

from crazy_gary.agent.tools import allowed
from crazy_gary.toolhub import Tool
from tests.security.tool_helpers import upload


async def test_catastrophic_regex_does_not_freeze_the_service(client, register_user):
    user = await register_user()
    await upload(client, user, "victim/a.txt", b"a" * 26 + b"!\n")
    latencies: list[float] = []
    done = asyncio.Event()

    async def probe():
        while not done.is_set():
            started = time.monotonic()
            resp = await client.get("/health/live")
            assert resp.status_code == 200
            latencies.append(time.monotonic() - started)
            await asyncio.sleep(0.05)

    prober = asyncio.create_task(probe())
    await asyncio.sleep(0.2)
    started = time.monotonic()
    try:
        resp = await client.post("/api/mcp/execute", headers=user.headers, json={
            "client_name": "workspace", "tool_name": "search_code",
            "parameters": {"query": "(a+)+$", "repository": "victim"}})
        took = time.monotonic() - started
        await asyncio.sleep(0.2)
    finally:
        done.set()
        await prober
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["success"] is True and body["result"]["total_matches"] == 0, body
    assert took < 2.0, f"the search took {took:.1f} s"
    # Unbounded backtracking held the GIL for 4.6 s here; 1 s leaves room for a busy machine.
    assert len(latencies) >= 3 and max(latencies) < 1.0, \
        f"/health/live answered in up to {max(latencies):.2f} s while the search ran"


@pytest.mark.parametrize("query,expected", [
    (r"def \w+\(", 1),          # ordinary regular expressions keep working
    (r"(x)\1", 1),              # RE2 refuses backreferences: searched as literal text
    ("(a+)+$", 0),
])
async def test_search_code_regex_behaviour_on_re2(client, register_user, query, expected):
    user = await register_user()
    await upload(client, user, "src/m.py", b"def run(x):\n    return '(x)\\1'\n")
    resp = await client.post("/api/mcp/execute", headers=user.headers, json={
        "client_name": "workspace", "tool_name": "search_code",
        "parameters": {"query": query}})
    body = resp.json()
    assert body["success"] is True, body
    assert body["result"]["total_matches"] == expected


def test_tool_allow_list_globs_run_on_the_same_linear_engine():
    """Task and agent allow-lists are user globs: matched by kit.patterns, not fnmatch/re."""
    git_status = Tool(name="git_status", description="", schema={}, client="git")
    assert allowed(git_status, ["git.*"]) and allowed(git_status, ["git_status"])
    assert allowed(git_status, ["g?t.git_*"]) and not allowed(git_status, ["time.*"])
    assert not allowed(git_status, ["git.[g]it_status"])  # brackets are literal
    long_name = Tool(name="a" * 50_000, description="", schema={}, client="c")
    started = time.monotonic()
    assert not allowed(long_name, ["c." + "*a" * 30 + "b"])
    assert time.monotonic() - started < 0.5
