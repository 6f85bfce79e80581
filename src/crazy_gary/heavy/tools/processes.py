"""The one way to start an analysis program on a user's files.

Nothing a user controls can be read as an option or as configuration:

- options are fixed lists written in the tool's code, never built from parameters;
- the user's paths come after `--`, as absolute paths (they start with `/`) that were
  resolved (symlinks followed) and checked to lie inside that user's workspace, and are
  checked again just before the program starts;
- the program runs in an empty scratch directory with a minimal environment, so
  configuration files a user can upload (`radon.cfg`, `setup.cfg`, `pyproject.toml`,
  `.bandit`) are never picked up from the workspace.

JSON comes out on stdout; the whole process group is killed when the step is cancelled
or runs out of time. The only other child process of the service is the operator's own
`MODEL_*_COMMAND` (endpoints/providers.py): configuration, never user input.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crazy_gary.errors import AppError
from crazy_gary.heavy.tools.base import ToolError
from crazy_gary.toolhub.workspace import resolve_in_workspace, workspace_root

BIN = Path(sys.executable).parent
# Environment variables the programs need; everything else (RADONCFG, RUFF_*, ...) stays out.
PASSED_ENV = ("PATH", "LANG", "LC_ALL", "TZ")


@dataclass(frozen=True)
class WorkspaceTargets:
    """Absolute, symlink-resolved paths inside one user's workspace (`root`)."""

    root: Path
    paths: tuple[Path, ...]

    def verified(self) -> list[str]:
        """The paths as arguments, re-checked now (a path may have changed since)."""
        out = []
        for path in self.paths:
            real = path.resolve()
            if (not path.is_absolute() or real != path
                    or not (real == self.root or real.is_relative_to(self.root))):
                raise ToolError("a target left the workspace")
            out.append(str(real))
        return out


def workspace_targets(user_id: int | str, *relative: str) -> WorkspaceTargets:
    """Check workspace paths a user named; the only way to build program targets."""
    try:
        root = workspace_root(user_id)
        paths = tuple(resolve_in_workspace(user_id, rel, must_exist=True) for rel in relative)
    except AppError as exc:
        raise ToolError(exc.message) from exc
    return WorkspaceTargets(root, paths)


def executable(name: str) -> str:
    path = BIN / name
    if not path.exists():
        raise ToolError(f"{name} is not installed next to the service's Python")
    return str(path)


def command_line(program: str, options: Sequence[str], targets: WorkspaceTargets) -> list[str]:
    """`program options -- /abs/target...`: nothing after `--` is read as an option."""
    return [executable(program), *options, "--", *targets.verified()]


async def run_json(program: str, options: Sequence[str], targets: WorkspaceTargets, *,
                   limit_seconds: float = 600.0, ok_codes: tuple[int, ...] = (0, 1)) -> Any:
    """Run an analysis program on workspace targets and parse its JSON stdout."""
    args = command_line(program, options, targets)
    scratch = Path(tempfile.mkdtemp(prefix="crazy-gary-tool-"))
    env = {k: os.environ[k] for k in PASSED_ENV if k in os.environ}
    env.update(NO_COLOR="1", HOME=str(scratch))
    try:
        proc = await asyncio.create_subprocess_exec(
            *args, cwd=str(scratch), stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL,
            start_new_session=True, env=env)
        try:
            out, err = await asyncio.wait_for(proc.communicate(), limit_seconds)
        except BaseException as exc:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(Exception):
                await asyncio.shield(proc.wait())
            if isinstance(exc, TimeoutError):
                raise ToolError(f"{program} took longer than {limit_seconds:g}s") from exc
            raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if proc.returncode not in ok_codes:
        detail = err.decode(errors="replace").replace(f"{targets.root}/", "").strip()
        raise ToolError(f"{program} failed ({proc.returncode}): {detail[:300]}")
    text = out.decode(errors="replace").strip()
    try:
        return json.loads(text) if text else None
    except json.JSONDecodeError as exc:
        raise ToolError(f"{program} gave unreadable output") from exc
