"""Shared helpers of the task, agent and chat tests."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
from sqlalchemy import create_engine, select, text

from crazy_gary.config import Settings, to_sync_url
from tests.fakes.openai_standin import turn_of
from tests.support import REPO, ProcessServer, login, register, subprocess_env

FINAL = ("completed", "failed", "stopped")


def tag(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def marker(script_tag: str) -> str:
    return f"[[script:{script_tag}]]"


async def create(client, user, *, title="A task", description="Do it", **extra) -> str:
    resp = await client.post("/api/tasks", headers=user.headers,
                             json={"title": title, "description": description, **extra})
    assert resp.status_code == 201, resp.text
    return resp.json()["task_id"]


async def run_task(client, user, script_tag: str, **extra) -> str:
    """Create and start a task driven by a stand-in script."""
    task_id = await create(client, user, title=f"Task {script_tag}",
                           description=f"Please work. {marker(script_tag)}", **extra)
    resp = await client.post(f"/api/tasks/{task_id}/start", headers=user.headers)
    assert resp.status_code == 200, resp.text
    return task_id


async def wait_for(client, user, task_id: str, statuses=FINAL, within: float = 30.0,
                   phase: str | None = None) -> dict:
    deadline = time.monotonic() + within
    body: dict = {}
    while time.monotonic() < deadline:
        resp = await client.get(f"/api/tasks/{task_id}", headers=user.headers)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        if body["status"] in statuses and (phase is None or body.get("phase") == phase):
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"task {task_id} never reached {statuses}/{phase}: {body}")


async def task_events(server, task_id: str, kind: str = "task_update") -> list[dict]:
    """Every event of one kind about a task from the event log, oldest first."""
    from crazy_gary.db import session_scope
    from crazy_gary.realtime.models import Event

    async def read():
        async with session_scope() as session:
            rows = await session.scalars(
                select(Event).where(Event.event == kind).order_by(Event.id))
            return [r.data for r in rows if r.data.get("task_id") == task_id]

    return await asyncio.wrap_future(
        asyncio.run_coroutine_threadsafe(read(), server.loop))


def counter_server_config(counter_file: Path, name: str = "counter"):
    from crazy_gary.toolhub.servers import ServerConfig

    env = subprocess_env({"COUNTER_FILE": str(counter_file)})
    return ServerConfig(name=name, command=sys.executable, args=("-m", "tests.fakes.counter_mcp"),
                        env={k: env[k] for k in ("PYTHONPATH", "COUNTER_FILE", "PATH")},
                        cwd=str(REPO))


def counter_lines(counter_file: Path) -> list[str]:
    return counter_file.read_text().splitlines() if counter_file.exists() else []


def add_counter_server(server, path: Path):
    """Plug the counter MCP server into the shared server's hub; returns the remover."""
    from crazy_gary.toolhub import get_hub

    hub = get_hub()
    server.run_coro(hub.add_server(counter_server_config(path)))
    deadline = time.monotonic() + 30
    while True:
        try:
            if any(t.name == "tally" for t in hub.list_tools(client="counter")):
                break
        except Exception:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.1)
    return lambda: server.run_coro(hub.remove_server("counter"))


def mcp_config(directory: Path, counter_file: Path) -> Path:
    env = subprocess_env({"COUNTER_FILE": str(counter_file)})
    path = directory / "mcp.json"
    path.write_text(json.dumps({"mcpServers": {"counter": {
        "command": sys.executable, "args": ["-m", "tests.fakes.counter_mcp"], "cwd": str(REPO),
        "env": {k: env[k] for k in ("PYTHONPATH", "COUNTER_FILE", "PATH")}}}}))
    return path


def process_env(base_env: dict, model_standin, data_dir: Path, counter_file: Path,
                executor: str) -> dict:
    env = {**base_env, "CRAZY_GARY_DATA_DIR": str(data_dir),
           "MODEL_120B_BASE_URL": model_standin.url, "MODEL_20B_BASE_URL": model_standin.url,
           "MCP_CONFIG": str(mcp_config(data_dir, counter_file)),
           "CRAZY_GARY_EXECUTOR_ID": executor, "MODEL_RETRY_BACKOFF_SECONDS": "0.05"}
    # embedded mode: SQLite in the data dir, no Redis (empty overrides what the parent
    # process's environment may carry)
    env.update(DATABASE_URL="", REDIS_URL="")
    return env


async def wait_final(client, headers, task_id: str, within: float = 60) -> dict:
    deadline = time.monotonic() + within
    while True:
        body = (await client.get(f"/api/tasks/{task_id}", headers=headers)).json()
        if body["status"] in ("completed", "failed", "stopped"):
            return body
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.1)


def fresh_database(url: str, suffix: str) -> str:
    """A new, empty PostgreSQL database beside the test one (and no engine tables yet)."""
    base, _, name = url.rpartition("/")
    name = name.split("?")[0]
    target = f"{name}_{suffix}"
    admin = create_engine(base.replace("postgresql://", "postgresql+psycopg://") + "/postgres",
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for db in (target, f"{target}_dbos_sys"):
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{target}"'))
    admin.dispose()
    return f"{base}/{target}"


def wait_log(proc: ProcessServer, needle: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while needle not in proc.log():
        assert proc.proc.poll() is None, proc.log()[-3000:]
        assert time.monotonic() < deadline, proc.log()[-3000:]
        time.sleep(0.1)


ADMIN_PASSWORD = "Adm1n-password-failover"


class Cluster:
    """An API process (`<name>-api`) and a worker (`<name>-worker`) on a fresh database;
    `launch` starts a successor of either under a new executor id."""

    def __init__(self, base_env: dict, model_standin, name: str) -> None:
        self.name = name
        self.url = fresh_database(os.environ["TEST_DATABASE_URL"], name)
        self.data_dir = Path(tempfile.mkdtemp(prefix=f"cg-{name}-"))
        self.counter_file = self.data_dir / "counter.log"
        self.base_env, self.standin = base_env, model_standin
        self.api_id, self.worker_id = f"{name}-api", f"{name}-worker"
        self.api = ProcessServer(self.env_for(self.api_id))
        self.worker = ProcessServer(self.env_for(self.worker_id), command="worker")
        sys_url = to_sync_url(Settings(DATABASE_URL=self.url).dbos_system_database_url)
        self.sys_engine = create_engine(sys_url.replace("postgresql://",
                                                        "postgresql+psycopg://"))
        self.engine = create_engine(self.url.replace("postgresql://", "postgresql+psycopg://"))

    def env_for(self, executor: str) -> dict:
        env = process_env(self.base_env, self.standin, self.data_dir, self.counter_file,
                          executor)
        # Two users of up to 3 running tasks each, 3 a process: both processes hold tasks.
        env.update(DATABASE_URL=self.url, TASK_WORKER_CONCURRENCY="3",
                   TASK_PER_USER_CONCURRENCY="3", EXECUTOR_DEAD_AFTER_SECONDS="3",
                   SHUTDOWN_GRACE_SECONDS="20", REDIS_URL=os.environ.get("TEST_REDIS_URL", ""))
        return env

    def start(self) -> Cluster:
        self.api.start()
        self.worker.start()
        wait_log(self.worker, f"worker {self.worker_id} running")
        return self

    def launch(self, role: str, executor: str) -> ProcessServer:
        """Start the successor of the `api` or the `worker` under a new executor id, and
        wait until it runs; it becomes the cluster's process in that role."""
        if role == "api":
            self.api_id, self.api = executor, ProcessServer(self.env_for(executor))
            return self.api.start()
        self.worker_id = executor
        self.worker = ProcessServer(self.env_for(executor), command="worker").start()
        wait_log(self.worker, f"worker {executor} running")
        return self.worker

    def stop(self) -> None:
        for proc in (self.api, self.worker):
            if proc.proc is not None and proc.proc.poll() is None:
                proc.proc.send_signal(signal.SIGCONT)
            proc.stop()
        self.sys_engine.dispose()
        self.engine.dispose()

    def registry(self) -> dict[str, dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(text("SELECT * FROM executors")).mappings().all()
        return {row["executor_id"]: dict(row) for row in rows}

    def error_messages(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(text("SELECT message FROM error_logs")).scalars())

    def final_executors(self, ids: list[str]) -> set[str]:
        with self.sys_engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT executor_id FROM dbos.workflow_status WHERE workflow_uuid = ANY(:ids)"),
                {"ids": ids}).all()
        return {row[0] for row in rows}

    async def admin(self, client: httpx.AsyncClient):
        """An administrator of this cluster's database, made as create-admin makes one."""
        from crazy_gary.users.bootstrap import ensure_admin  # after the session's settings

        email = f"admin-{self.name}@example.com"
        await ensure_admin(Settings(DATABASE_URL=self.url), email=email,
                           password=ADMIN_PASSWORD, name="Admin")
        return await login(client, email, ADMIN_PASSWORD)

    async def start_tasks(self, client: httpx.AsyncClient, scripts: list[str]):
        users = [await register(client), await register(client)]
        owner_of = {}
        for n, script in enumerate(scripts):
            headers = users[n % 2].headers
            resp = await client.post("/api/tasks", headers=headers, json={
                "title": script, "description": f"tally {marker(script)}", "auto_start": True})
            assert resp.status_code == 201, resp.text
            owner_of[resp.json()["task_id"]] = headers
        return owner_of


def script_tasks(model_standin, scripts: list[str], *, answer_delay: float = 0,
                 act_delay: float = 0) -> None:
    """Plan, one tally tool call, the answer; replies keyed on the conversation (turn), so
    a request sent again gets the reply it was sent for."""
    for script in scripts:
        model_standin.script(script, [
            {"content": "1. tally\n2. answer"},
            {"tool_calls": [{"name": "counter__tally", "arguments": {"label": script}}],
             "delay": act_delay},
            {"content": f"done {script}", "delay": answer_delay}], by="turn")


def asked_by_turn(model_standin, script: str) -> Counter:
    return Counter(turn_of(r["messages"]) for r in model_standin.requests(script))


async def until(check, within: float = 60, every: float = 0.05):
    deadline = time.monotonic() + within
    while not (result := check()):
        assert time.monotonic() < deadline, "condition never held"
        await asyncio.sleep(every)
    return result
