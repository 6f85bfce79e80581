"""Test helpers: a real server in a thread, servers in subprocesses, users."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn

REPO = Path(__file__).resolve().parent.parent
SRC = REPO / "src"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def subprocess_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for a child process that imports this checkout's code."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), str(REPO), env.get("PYTHONPATH", "")])
    env.update(extra or {})
    return env


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except Exception as exc:  # not up yet
            last = exc
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer in {timeout}s: {last}")


class ThreadServer:
    """A real uvicorn server for an ASGI app, on its own event loop in a thread."""

    def __init__(self, app, port: int | None = None) -> None:
        self.port = port or free_port()
        self.config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                     lifespan="on")
        self.server = uvicorn.Server(self.config)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.loop: asyncio.AbstractEventLoop | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self.server.serve())

    def start(self, timeout: float = 60.0) -> ThreadServer:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("server thread died during start-up")
            if time.monotonic() > deadline:
                raise TimeoutError("server did not start")
            time.sleep(0.05)
        return self

    def run_coro(self, coro, timeout: float = 30.0):
        """Run a coroutine on the server's own loop (for in-process service access)."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


class ProcessServer:
    """`crazy-gary serve` (or worker) in a child process, for crash and multi-process tests
    and for every service besides the session's (one runtime per process). `app` serves an
    app factory (`module:function`) through uvicorn instead of `crazy-gary serve`."""

    def __init__(self, env: dict[str, str], port: int | None = None,
                 command: str = "serve", app: str | None = None) -> None:
        self.port = port or free_port()
        self.env = subprocess_env(env)
        self.command = command
        self.app = app
        self.settings = None  # an instance_server's settings, as the child reads them
        self.proc: subprocess.Popen | None = None
        self.log_path = Path(env.get("CRAZY_GARY_DATA_DIR", "/tmp")) / f"server-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> ProcessServer:
        args = [sys.executable, "-m", "crazy_gary", self.command]
        if self.app:
            args = [sys.executable, "-m", "uvicorn", "--factory", self.app]
        if self.command == "serve":
            args += ["--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"]
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(args, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        if self.command == "serve":
            wait_http(self.url + "/health/live", timeout)
        return self

    def kill(self) -> None:
        """SIGKILL: no clean shutdown."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@dataclass
class AuthedUser:
    id: int
    email: str
    password: str
    token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


async def register(client: httpx.AsyncClient, *, email: str | None = None,
                   password: str = "Passw0rd-123", name: str = "Test User") -> AuthedUser:
    email = email or unique_email()
    resp = await client.post("/api/auth/register",
                             json={"email": email, "password": password, "fullName": name})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    return AuthedUser(id=body["user"]["id"], email=email.lower(), password=password,
                      token=body["token"], refresh_token=body["refresh_token"])


async def login(client: httpx.AsyncClient, email: str, password: str) -> AuthedUser:
    resp = await client.post("/api/auth/login", json={"email": email, "password": password})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    return AuthedUser(id=body["user"]["id"], email=email.lower(), password=password,
                      token=body["token"], refresh_token=body["refresh_token"])


def instance_server(*, app: str | None = None, **overrides) -> ProcessServer:
    """Another service beside the session's, started in a child process (one runtime per
    process): its own data directory (so its own JWT key and SQLite database), its own
    executor, no Redis unless given; the session's environment supplies the rest.
    Its `settings` (database, data directory) serve tests that reach its database directly.
    """
    from crazy_gary.config import Settings  # after the session fixture set the environment

    data_dir = Path(tempfile.mkdtemp(prefix="crazy-gary-instance-"))
    env = {"CRAZY_GARY_DATA_DIR": str(data_dir), "DATABASE_URL": "", "REDIS_URL": "",
           "JWT_SECRET_KEY": "", "CRAZY_GARY_EXECUTOR_ID": f"instance-{data_dir.name}"}
    env.update({key: str(value) for key, value in overrides.items()})
    srv = ProcessServer(env, app=app)
    srv.settings = Settings(**{**env, "DATABASE_URL": None, "REDIS_URL": env["REDIS_URL"] or None,
                               "JWT_SECRET_KEY": None})
    return srv.start()
