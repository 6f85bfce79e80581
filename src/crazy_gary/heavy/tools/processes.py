"""Analysis programs run as child processes: JSON out, killed when the step is cancelled."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from crazy_gary.heavy.tools.base import ToolError

BIN = Path(sys.executable).parent


def executable(name: str) -> str:
    path = BIN / name
    if not path.exists():
        raise ToolError(f"{name} is not installed next to the service's Python")
    return str(path)


async def run_json(args: list[str], *, cwd: Path, limit_seconds: float = 600.0,
                   ok_codes: tuple[int, ...] = (0, 1)) -> Any:
    """Run a program and parse its JSON stdout; the whole process group dies on cancel."""
    proc = await asyncio.create_subprocess_exec(
        *args, cwd=str(cwd), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL, start_new_session=True,
        env={**os.environ, "NO_COLOR": "1"})
    try:
        out, err = await asyncio.wait_for(proc.communicate(), limit_seconds)
    except BaseException as exc:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            await asyncio.shield(proc.wait())
        if isinstance(exc, TimeoutError):
            raise ToolError(f"{Path(args[0]).name} took longer than {limit_seconds:g}s") from exc
        raise
    if proc.returncode not in ok_codes:
        raise ToolError(f"{Path(args[0]).name} failed ({proc.returncode}): "
                        f"{err.decode(errors='replace').strip()[:300]}")
    text = out.decode(errors="replace").strip()
    try:
        return json.loads(text) if text else None
    except json.JSONDecodeError as exc:
        raise ToolError(f"{Path(args[0]).name} gave unreadable output") from exc
