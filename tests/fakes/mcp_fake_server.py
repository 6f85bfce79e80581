"""A small MCP server (the SDK's MCPServer) that can misbehave on purpose.

stdio:  python mcp_fake_server.py [--hang-on-start]
HTTP:   python mcp_fake_server.py --http PORT
Tools: echo, add, sleep (hangs as long as asked), crash (the process dies mid-call),
fail (the tool's own error), whoami (the process id, to see a reconnect).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("fake-tools")


@server.tool(description="Echo the given text back unchanged.")
def echo(text: str) -> str:
    return text


@server.tool(description="Add two integers and return the sum.")
def add(a: int, b: int) -> int:
    return a + b


@server.tool(description="Wait for a number of seconds, then answer (simulates a hang).")
async def sleep(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return f"slept {seconds}"


@server.tool(description="Terminate the server process in the middle of the call.")
def crash() -> str:
    sys.stdout.flush()
    os._exit(3)


@server.tool(description="Always fail with the given message.")
def fail(message: str) -> str:
    raise ToolError(message)


@server.tool(description="The server's process id.")
def whoami() -> int:
    return os.getpid()


@server.tool(description="Add a new tool with the given name and tell the client.")
async def grow(name: str, ctx: Context) -> str:
    server.add_tool(lambda: f"I am {name}", name=name, description=f"A grown tool {name}.")
    await ctx.session.send_tool_list_changed()
    return f"added {name}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--http", type=int, default=None, help="serve streamable HTTP on PORT")
    parser.add_argument("--hang-on-start", action="store_true",
                        help="never answer the initialize handshake")
    args = parser.parse_args()
    if args.hang_on_start:
        while True:
            time.sleep(3600)
    if args.http:
        server.run("streamable-http", host="127.0.0.1", port=args.http)
    else:
        server.run("stdio")


if __name__ == "__main__":
    main()
