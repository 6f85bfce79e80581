"""The model stand-in (tests/fakes/openai_standin.py) in its own process for benchmarks, so
its CPU stays apart from the service being measured."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def start_standin():
    """(the stand-in's process, a RemoteModelServer to script it); stop the process with
    terminate() and wait()."""
    from tests.fakes.openai_standin import RemoteModelServer
    from tests.support import free_port, subprocess_env, wait_http

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.openai_standin", "--port", str(port)],
        env=subprocess_env(), cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_http(f"http://127.0.0.1:{port}/v1/models")
    return proc, RemoteModelServer(port=port)
