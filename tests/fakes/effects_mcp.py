"""A stdio MCP server whose tools declare their effects (MCP annotations), for the approval
and crash-contract tests. Every call appends a line to the file named by EFFECTS_FILE, so a
test counts exactly how often each tool ran (across a crash too).

Tools: `record` (a write: no hints), `wipe` (destructiveHint), `peek` (readOnlyHint),
`sync` (idempotentHint); each takes a `label` and an optional `seconds` to wait first.
Run: `python -m tests.fakes.effects_mcp` (EFFECTS_FILE in the environment).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

server = MCPServer("effects")


def _log(line: str) -> None:
    path = Path(os.environ.get("EFFECTS_FILE", "/tmp/effects_mcp.log"))
    with path.open("a") as fh:
        fh.write(line + "\n")
        fh.flush()
        os.fsync(fh.fileno())


async def _run(kind: str, label: str, seconds: float) -> str:
    _log(f"{kind} {label}")
    if seconds:
        await asyncio.sleep(seconds)
    return f"{kind} done: {label}"


@server.tool(description="Record a label (a write with no hints).")
async def record(label: str, seconds: float = 0) -> str:
    return await _run("record", label, seconds)


@server.tool(description="Wipe a label (destructive).",
             annotations=ToolAnnotations(destructive_hint=True))
async def wipe(label: str, seconds: float = 0) -> str:
    return await _run("wipe", label, seconds)


@server.tool(description="Look at a label (read only).",
             annotations=ToolAnnotations(read_only_hint=True))
async def peek(label: str, seconds: float = 0) -> str:
    return await _run("peek", label, seconds)


@server.tool(description="Set a label (idempotent).",
             annotations=ToolAnnotations(idempotent_hint=True))
async def sync(label: str, seconds: float = 0) -> str:
    return await _run("sync", label, seconds)


if __name__ == "__main__":
    server.run("stdio")
