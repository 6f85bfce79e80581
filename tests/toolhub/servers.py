"""Where the real MCP servers used by the tests live, and mcp.json writing."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from tests.support import REPO

BIN = Path(sys.executable).parent
FAKE_SERVER = REPO / "tests" / "fakes" / "mcp_fake_server.py"
FILESYSTEM_SERVER = REPO / "tests" / "js" / "node_modules" / ".bin" / "mcp-server-filesystem"


def time_server() -> dict:
    return {"command": str(BIN / "mcp-server-time")}


def git_server() -> dict:
    return {"command": str(BIN / "mcp-server-git")}


def fake_server(*args: str, **extra) -> dict:
    return {"command": sys.executable, "args": [str(FAKE_SERVER), *args], **extra}


def filesystem_available() -> bool:
    return FILESYSTEM_SERVER.exists() and shutil.which("node") is not None


def write_session_mcp_config(data_dir: Path) -> Path:
    """The shared server's mcp.json: the time and git servers from PyPI (quick to start)."""
    path = data_dir / "mcp.json"
    path.write_text(json.dumps({"mcpServers": {"time": time_server(), "git": git_server()}}))
    return path
