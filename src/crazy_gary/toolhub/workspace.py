"""Per-user workspace directories and path confinement.

Every path a user (or the agent acting for them) names is resolved here; nothing
outside `<data dir>/workspaces/<user id>/` can be reached: `..`, absolute paths
and symlinks that leave the root are refused.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from crazy_gary import runtime
from crazy_gary.config import Settings, get_settings
from crazy_gary.errors import NotFound, ValidationFailed


def current_settings() -> Settings:
    """The running runtime's settings; the environment's outside one (the CLI)."""
    running = runtime.running()
    return running.settings if running is not None else get_settings()


def workspace_root(user_id: int | str) -> Path:
    """The user's workspace directory (created on first use), fully resolved."""
    key = str(user_id)
    if not key or not key.replace("-", "").replace("_", "").isalnum():
        raise ValidationFailed(f"invalid user id for a workspace: {key!r}")
    root = current_settings().workspaces_dir / key
    root.mkdir(parents=True, exist_ok=True)
    return root.resolve()


MAX_NAME_BYTES = 255  # what the file systems we run on accept per name
MAX_PATH_CHARS = 1024


def clean_relative(relative_path: str | os.PathLike[str] | None) -> PurePosixPath:
    """The path as safe relative parts; refuses absolute paths, `..` and odd characters."""
    raw = os.fspath(relative_path) if relative_path is not None else ""
    raw = raw.replace("\\", "/")
    if "\x00" in raw:
        raise ValidationFailed("path contains a NUL byte")
    if raw.startswith("/") or (len(raw) > 1 and raw[1] == ":"):
        raise ValidationFailed(f"absolute paths are not allowed: {raw!r}")
    parts = [p for p in raw.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise ValidationFailed(f"'..' is not allowed in workspace paths: {raw!r}")
    if any(len(p.encode()) > MAX_NAME_BYTES for p in parts) or len(raw) > MAX_PATH_CHARS:
        raise ValidationFailed(
            f"path too long: names are limited to {MAX_NAME_BYTES} bytes and paths to "
            f"{MAX_PATH_CHARS} characters"
        )
    return PurePosixPath(*parts) if parts else PurePosixPath(".")


def resolve_in_workspace(user_id: int | str, relative_path: str | os.PathLike[str] | None,
                         *, must_exist: bool = False) -> Path:
    """Absolute, symlink-resolved path inside the user's workspace.

    Raises ValidationFailed for paths that would leave the workspace and, with
    `must_exist`, NotFound for paths that do not exist.
    """
    root = workspace_root(user_id)
    rel = clean_relative(relative_path)
    candidate = (root / rel).resolve(strict=False)
    if candidate != root and not candidate.is_relative_to(root):
        raise ValidationFailed(f"path leaves the workspace: {rel.as_posix()!r}")
    if must_exist and not candidate.exists():
        raise NotFound(f"No such file in the workspace: {rel.as_posix()}")
    return candidate


def relative_name(user_id: int | str, path: Path) -> str:
    """`path` (inside the workspace) as the user sees it."""
    return path.resolve().relative_to(workspace_root(user_id)).as_posix()
