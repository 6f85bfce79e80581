"""The per-user workspace quota (WORKSPACE_QUOTA_BYTES).

Every write into a workspace (upload, archive import, a tool's write) is prepared
elsewhere first (a staging directory, or bytes in memory) and lands only through
`admit`: under a per-user lock, held across processes, it measures the workspace,
refuses with 413 QUOTA_EXCEEDED when the new bytes (less the files they replace) would
not fit, and otherwise runs the commit while the lock is held, so two writes at once
cannot both squeeze under the limit. A refused write leaves the workspace unchanged.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from crazy_gary.errors import PayloadTooLarge
from crazy_gary.toolhub.workspace import current_settings, workspace_root

T = TypeVar("T")


class QuotaExceeded(PayloadTooLarge):
    code = "QUOTA_EXCEEDED"
    message = "Workspace quota exceeded"


def quota_bytes() -> int:
    """The quota; 0 means none."""
    return current_settings().workspace_quota_bytes


def usage(user_id: int | str) -> int:
    """Bytes held by the regular files of the user's workspace (links not counted)."""
    total = 0
    for dirpath, _dirnames, filenames in os.walk(workspace_root(user_id), followlinks=False):
        for name in filenames:
            with contextlib.suppress(OSError):
                info = os.lstat(os.path.join(dirpath, name))
                if stat.S_ISREG(info.st_mode):
                    total += info.st_size
    return total


def replaced_bytes(paths: Iterable[Path]) -> int:
    """Bytes of the existing files among `paths` (what writing them would free)."""
    size = 0
    for path in paths:
        with contextlib.suppress(OSError):
            if path.is_file() and not path.is_symlink():
                size += path.stat().st_size
    return size


def room(user_id: int | str) -> int | None:
    """Bytes still free (None without a quota); a hint, `admit` is what decides."""
    quota = quota_bytes()
    return None if quota <= 0 else max(0, quota - usage(user_id))


def check(user_id: int | str, adding: int, replacing: Iterable[Path] = ()) -> None:
    """QuotaExceeded unless `adding` bytes (replacing those files) fit now."""
    quota = quota_bytes()
    if quota <= 0:
        return
    used = usage(user_id)
    after = used - replaced_bytes(replacing) + adding
    if after > quota:
        raise QuotaExceeded(
            f"Workspace quota exceeded: this needs {adding} bytes, {max(0, quota - used)} of "
            f"the {quota}-byte quota are free; delete files to make room",
            details={"quota_bytes": quota, "used_bytes": used, "needed_bytes": adding})


@contextlib.contextmanager
def _user_lock(user_id: int | str) -> Iterator[None]:
    workspace_root(user_id)  # checks the id
    locks = current_settings().workspaces_dir / ".locks"
    locks.mkdir(parents=True, exist_ok=True)
    with open(locks / f"{user_id}.lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def admit(user_id: int | str, adding: int, replacing: Iterable[Path],
          commit: Callable[[], T]) -> T:
    """Run `commit` (which moves prepared bytes into the workspace) if they fit."""
    replacing = list(replacing)
    with _user_lock(user_id):
        check(user_id, adding, replacing)
        return commit()
