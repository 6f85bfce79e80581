"""The built-in `workspace` client: file tools confined to the caller's workspace."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from crazy_gary.errors import AppError
from crazy_gary.kit.patterns import MAX_PATTERN_CHARS, Matcher, untrusted_regex
from crazy_gary.toolhub import files as workspace_files
from crazy_gary.toolhub.servers import WORKSPACE_CLIENT
from crazy_gary.toolhub.types import IDEMPOTENT, READ, Tool
from crazy_gary.toolhub.workspace import current_settings, resolve_in_workspace, workspace_root

SKIP_DIRS = frozenset({".git", "node_modules", "__pycache__", ".venv", ".mypy_cache"})
MAX_SEARCH_FILE_BYTES = 2 * 1024 * 1024
MAX_MATCHES = 500
# A search stops after this long (its result says `truncated`); each line is matched in
# linear time (RE2), so even the largest workspace cannot hold a worker thread for long.
MAX_SEARCH_SECONDS = 30.0


class ToolError(Exception):
    """A tool's own failure: reported as `success: false` with this message."""


def _schema(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required,
            "additionalProperties": False}


_PATH = {"type": "string", "description": "Path relative to your workspace root"}

# Effects: the readers are `read`; write_file replaces the whole file with the given content,
# so a second identical call changes nothing: `idempotent`.
TOOLS = [
    Tool("list_files", "List files and directories in your workspace (recursively by default).",
             _schema({"path": {**_PATH, "default": "."},
                      "recursive": {"type": "boolean", "default": True,
                                    "description": "Descend into sub-directories"}}, []),
             WORKSPACE_CLIENT, effects=READ),
    Tool("read_file", "Read a text file from your workspace.",
             _schema({"path": _PATH,
                      "max_bytes": {"type": "integer", "minimum": 1,
                                    "description": "Read at most this many bytes"}}, ["path"]),
             WORKSPACE_CLIENT, effects=READ),
    Tool("write_file", "Write (create or replace) a text file in your workspace.",
             _schema({"path": _PATH, "content": {"type": "string", "description": "File content"}},
                     ["path", "content"]),
             WORKSPACE_CLIENT, effects=IDEMPOTENT),
    Tool("search_code",
             "Search through code repositories in your workspace: lines matching a regular "
             "expression or plain text, with file paths and line numbers.",
             _schema({"query": {"type": "string", "minLength": 1,
                                "maxLength": MAX_PATTERN_CHARS,
                                "description": "Search query (regular expression or plain text)"},
                      "repository": {"type": "string",
                                     "description": "Repository or directory path inside your "
                                                    "workspace (default: all of it)"},
                      "path": {"type": "string", "description": "Alias of repository"},
                      "case_sensitive": {"type": "boolean", "default": False},
                      "max_results": {"type": "integer", "minimum": 1, "maximum": MAX_MATCHES,
                                      "default": 100,
                                      "description": "Maximum number of matching lines"}},
                     ["query"]),
             WORKSPACE_CLIENT, effects=READ),
]


def run(user_id: int | str, tool: str, params: dict[str, Any]) -> dict[str, Any]:
    """Run one built-in tool for a user (blocking; called in a thread)."""
    handlers: dict[str, Callable[[int | str, dict[str, Any]], dict[str, Any]]] = {
        "list_files": list_files, "read_file": read_file, "write_file": write_file,
        "search_code": search_code,
    }
    try:
        return handlers[tool](user_id, params)
    except AppError as exc:  # confinement refusals, missing files
        raise ToolError(exc.message) from exc
    except OSError as exc:
        raise ToolError(f"{type(exc).__name__}: {exc.strerror or exc}") from exc


def _inside(root: Path, path: Path) -> bool:
    try:
        resolved = path.resolve()
    except OSError:
        return False
    return resolved == root or resolved.is_relative_to(root)


def _walk(root: Path, start: Path, recursive: bool) -> Iterator[Path]:
    """Files and directories under `start`; never follows links that leave the workspace."""
    for dirpath, dirnames, filenames in os.walk(start, followlinks=False):
        base = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in dirnames:
            if _inside(root, base / name):
                yield base / name
        for name in sorted(filenames):
            entry = base / name
            if _inside(root, entry):
                yield entry
        if not recursive:
            dirnames[:] = []


def list_files(user_id: int | str, params: dict[str, Any]) -> dict[str, Any]:
    root = workspace_root(user_id)
    start = resolve_in_workspace(user_id, params.get("path") or ".", must_exist=True)
    if not start.is_dir():
        raise ToolError(f"not a directory: {params.get('path')}")
    entries = []
    for entry in _walk(root, start, params.get("recursive", True)):
        is_dir = entry.is_dir() and not entry.is_symlink()
        entries.append({"path": entry.relative_to(root).as_posix(),
                        "type": "directory" if is_dir else "file",
                        "size": 0 if is_dir else entry.stat().st_size})
        if len(entries) >= 5000:
            break
    return {"files": entries, "count": len(entries)}


def read_file(user_id: int | str, params: dict[str, Any]) -> dict[str, Any]:
    path = resolve_in_workspace(user_id, params["path"], must_exist=True)
    if not path.is_file():
        raise ToolError(f"not a file: {params['path']}")
    limit = min(params.get("max_bytes") or current_settings().workspace_max_read_bytes,
                current_settings().workspace_max_read_bytes)
    size = path.stat().st_size
    with path.open("rb") as fh:
        data = fh.read(limit)
    if b"\x00" in data[:8192]:
        raise ToolError(f"binary file, not shown: {params['path']}")
    return {"path": path.relative_to(workspace_root(user_id)).as_posix(),
            "content": data.decode("utf-8", errors="replace"), "size": size,
            "truncated": size > limit}


def write_file(user_id: int | str, params: dict[str, Any]) -> dict[str, Any]:
    content = params["content"].encode("utf-8")
    if len(content) > current_settings().workspace_max_upload_bytes:
        raise ToolError("content larger than the workspace file size limit")
    path = resolve_in_workspace(user_id, params["path"])
    root = workspace_root(user_id)
    if path == root or path.is_dir():
        raise ToolError(f"is a directory: {params['path']}")
    workspace_files.write_produced(user_id, path, lambda tmp: tmp.write_bytes(content))
    return {"path": path.relative_to(root).as_posix(), "size": len(content)}


def _pattern(query: str, case_sensitive: bool) -> Matcher:
    """RE2 (linear time, no catastrophic backtracking); literal text when not a valid one."""
    return untrusted_regex(query, case_sensitive=case_sensitive)


def search_code(user_id: int | str, params: dict[str, Any]) -> dict[str, Any]:
    root = workspace_root(user_id)
    target = params.get("repository") or params.get("path") or "."
    start = resolve_in_workspace(user_id, target, must_exist=True)
    pattern = _pattern(params["query"], bool(params.get("case_sensitive", False)))
    budget = params.get("max_results") or 100
    files: list[dict[str, Any]] = []
    candidates = [start] if start.is_file() else (p for p in _walk(root, start, True)
                                                  if p.is_file())
    truncated = False
    deadline = time.monotonic() + MAX_SEARCH_SECONDS
    for path in candidates:
        if time.monotonic() > deadline:
            truncated = True
            break
        matches = _search_file(path, pattern, budget)
        if matches:
            files.append({"path": path.relative_to(root).as_posix(), "matches": matches})
            budget -= len(matches)
            if budget <= 0:
                truncated = True
                break
    return {"files": files, "total_matches": sum(len(f["matches"]) for f in files),
            "truncated": truncated}


def _search_file(path: Path, pattern: Matcher, budget: int) -> list[dict[str, Any]]:
    try:
        if path.stat().st_size > MAX_SEARCH_FILE_BYTES:
            return []
        data = path.read_bytes()
    except OSError:
        return []
    if b"\x00" in data[:8192]:
        return []
    matches = []
    for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
        if pattern.search(line):
            matches.append({"line": number, "content": line[:500]})
            if len(matches) >= budget:
                break
    return matches
