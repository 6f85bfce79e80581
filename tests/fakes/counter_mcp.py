"""A stdio MCP server for agent tests: counts its calls, sleeps on demand, returns bulk text.

Every call of `tally` appends one line to the file named by COUNTER_FILE, so a test can
count exactly how many times the agent executed the tool (e.g. across a crash).
Run: `python -m tests.fakes.counter_mcp` (COUNTER_FILE in the environment).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from mcp.server.mcpserver import MCPServer

server = MCPServer("counter")


def _log(line: str) -> None:
    path = Path(os.environ.get("COUNTER_FILE", "/tmp/counter_mcp.log"))
    with path.open("a") as fh:
        fh.write(line + "\n")
        fh.flush()
        os.fsync(fh.fileno())


@server.tool(description="Record one tally mark with a label and return the label.")
def tally(label: str) -> str:
    _log(f"tally {label}")
    return f"tallied {label}"


@server.tool(description="Wait for some seconds, then answer (a slow tool).")
async def slow(seconds: float) -> str:
    _log(f"slow-start {seconds}")
    await asyncio.sleep(seconds)
    _log(f"slow-end {seconds}")
    return f"slept {seconds}"


@server.tool(description="Return a long text of n characters.")
def bulk(n: int) -> str:
    return "x" * n


if __name__ == "__main__":
    server.run("stdio")
