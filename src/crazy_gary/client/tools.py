"""The MCP tool catalogue and execution (tools), and the user's workspace files (files)."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from crazy_gary.client.core import Core
from crazy_gary.client.models import (
    ImportResult,
    Page,
    Tool,
    ToolhubStatus,
    ToolResult,
    WorkspaceFile,
)


class ToolsArea:
    def __init__(self, core: Core) -> None:
        self._core = core

    async def list(self, *, client: str | None = None, limit: int = 50,
                   offset: int = 0) -> Page[Tool]:
        """One page of the catalogue (of one MCP client when `client` is given)."""
        return await self._core.page(self._path(client), Tool, limit=limit, offset=offset)

    def iter(self, *, client: str | None = None, page_size: int = 100
             ) -> AsyncIterator[Tool]:
        return self._core.pages(self._path(client), Tool, page_size=page_size)

    async def search(self, query: str, *, limit: int = 10) -> builtins.list[Tool]:
        """Tools ranked by relevance to `query`."""
        return await self._core.call("GET", "/api/mcp/tools/search", builtins.list[Tool],
                                     params={"query": query, "limit": limit})

    async def execute(self, client: str, tool: str, parameters: dict[str, Any] | None = None,
                      *, time_limit: float | None = None) -> ToolResult:
        """Run one tool; its own failure is `success=False` with `error`, not an exception."""
        body: dict[str, Any] = {"client_name": client, "tool_name": tool,
                                "parameters": parameters or {}}
        if time_limit is not None:
            body["timeout"] = time_limit
        wait = time_limit + 30 if time_limit is not None else self._core.wait_timeout
        return await self._core.call("POST", "/api/mcp/execute", ToolResult, json=body,
                                     timeout=wait)

    async def status(self) -> ToolhubStatus:
        return await self._core.call("GET", "/api/mcp/status", ToolhubStatus)

    @staticmethod
    def _path(client: str | None) -> str:
        return f"/api/mcp/tools/{quote(client, safe='')}" if client else "/api/mcp/tools"


class FilesArea:
    """Files of your workspace (the agent's `workspace.*` tools see the same files)."""

    def __init__(self, core: Core) -> None:
        self._core = core

    async def list(self, *, prefix: str | None = None, limit: int = 100,
                   offset: int = 0) -> Page[WorkspaceFile]:
        return await self._core.page("/api/workspace/files", WorkspaceFile, limit=limit,
                                     offset=offset, params={"prefix": prefix})

    def iter(self, *, prefix: str | None = None, page_size: int = 100
             ) -> AsyncIterator[WorkspaceFile]:
        return self._core.pages("/api/workspace/files", WorkspaceFile, page_size=page_size,
                                params={"prefix": prefix})

    async def upload(self, source: str | Path | bytes, path: str | None = None
                     ) -> WorkspaceFile:
        """Upload a local file (or bytes) to `path` (default: the file's name; a path
        ending in `/` is a directory)."""
        content, name = _content(source, path)
        return await self._core.call(
            "POST", "/api/workspace/files", WorkspaceFile, timeout=self._core.wait_timeout,
            files={"file": (name, content)}, data={"path": path} if path else None)

    async def import_archive(self, source: str | Path | bytes, path: str | None = None
                             ) -> ImportResult:
        """Unpack a zip or tar archive into the workspace (under `path` if given)."""
        content, name = _content(source, "archive.zip")
        return await self._core.call(
            "POST", "/api/workspace/import", ImportResult, timeout=self._core.wait_timeout,
            files={"file": (name, content)}, data={"path": path} if path else None)

    async def download(self, path: str) -> bytes:
        """The file's bytes."""
        resp = await self._core.request("GET", _file_url(path), timeout=self._core.wait_timeout)
        return resp.content

    async def download_to(self, path: str, destination: str | Path) -> Path:
        """Stream the file into `destination` (a local path) and return it."""
        target = Path(destination)
        async with self._core.stream("GET", _file_url(path),
                                     timeout=self._core.wait_timeout) as resp:
            with target.open("wb") as out:  # noqa: ASYNC230 (chunks written as they arrive)
                async for chunk in resp.aiter_bytes():
                    out.write(chunk)
        return target

    async def delete(self, path: str) -> None:
        """Delete a file or a directory."""
        await self._core.request("DELETE", _file_url(path))


def _content(source: str | Path | bytes, path: str | None) -> tuple[bytes, str]:
    if isinstance(source, bytes):
        name = (path or "upload.bin").rstrip("/").rsplit("/", 1)[-1] or "upload.bin"
        return source, name
    local = Path(source)
    return local.read_bytes(), local.name


def _file_url(path: str) -> str:
    return "/api/workspace/files/" + quote(path.lstrip("/"))
