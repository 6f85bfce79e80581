"""The `crazy-gary` command on a fresh machine: migrate, create-admin, serve."""

from __future__ import annotations

import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from tests.support import ProcessServer, subprocess_env


def fresh_env(data_dir: Path) -> dict[str, str]:
    """Embedded mode: SQLite under the data dir, no Redis, no configured key."""
    return {"CRAZY_GARY_DATA_DIR": str(data_dir), "DATABASE_URL": "", "REDIS_URL": "",
            "JWT_SECRET_KEY": "", "CRAZY_GARY_EXECUTOR_ID": f"cli-{data_dir.name}"}


def cli(*args: str, env: dict[str, str], stdin: str | None = None):
    return subprocess.run([sys.executable, "-m", "crazy_gary", *args], input=stdin,
                          capture_output=True, text=True, timeout=120,
                          env=subprocess_env(env))


def test_migrate_and_create_admin():
    data_dir = Path(tempfile.mkdtemp(prefix="cg-cli-"))
    env = fresh_env(data_dir)
    migrated = cli("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    assert (data_dir / "crazy_gary.db").exists()
    weak = cli("create-admin", "--email", "ops@example.com",
               env={**env, "CRAZY_GARY_ADMIN_PASSWORD": "weak"})
    assert weak.returncode == 1 and "at least 8" in weak.stdout
    made = cli("create-admin", "--email", "Ops@Example.com",
               env={**env, "CRAZY_GARY_ADMIN_PASSWORD": "0ps-password"})
    assert made.returncode == 0, made.stdout + made.stderr
    assert "ops@example.com" in made.stdout
    prompted = cli("create-admin", "--email", "ops2@example.com", env=env,
                   stdin="Pr0mpted-password\nPr0mpted-password\n")
    assert prompted.returncode == 0, prompted.stdout + prompted.stderr


def test_serve_on_a_fresh_data_dir():
    data_dir = Path(tempfile.mkdtemp(prefix="cg-serve-"))
    env = fresh_env(data_dir)
    made = cli("create-admin", "--email", "root@example.com",
               env={**env, "CRAZY_GARY_ADMIN_PASSWORD": "R00t-password"})
    assert made.returncode == 0, made.stdout + made.stderr
    srv = ProcessServer(env).start()
    try:
        key = data_dir / "jwt_secret.key"
        assert key.exists() and stat.S_IMODE(key.stat().st_mode) == 0o600
        assert len(key.read_text().strip()) >= 32
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            assert c.get("/health/live").json() == {"status": "alive"}
            login = c.post("/api/auth/login",
                           json={"email": "root@example.com", "password": "R00t-password"})
            assert login.status_code == 200, login.text
            headers = {"Authorization": f"Bearer {login.json()['token']}"}
            users = c.get("/api/users", headers=headers)
            assert users.status_code == 200 and users.json()[0]["email"] == "root@example.com"
    finally:
        srv.stop()
    # The key is generated once: a restart keeps it, so tokens stay valid.
    first = key.read_text()
    srv = ProcessServer(env).start()
    try:
        assert key.read_text() == first
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            assert c.get("/api/auth/me", headers=headers).status_code == 200
    finally:
        srv.stop()


def test_a_graceful_stop_writes_the_last_requests_to_the_log():
    """Request records are flushed every second; the ones still buffered at SIGTERM are
    written on the way out (after the durable engine has stopped)."""
    import sqlite3
    import uuid

    data_dir = Path(tempfile.mkdtemp(prefix="cg-stop-"))
    srv = ProcessServer(fresh_env(data_dir)).start()
    agent = f"last-words/{uuid.uuid4().hex[:8]}"
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            for _ in range(3):
                assert c.get("/health/live", headers={"User-Agent": agent}).status_code == 200
    finally:
        srv.stop()
    assert "telemetry flush failed" not in srv.log(), srv.log()[-3000:]
    with sqlite3.connect(data_dir / "crazy_gary.db") as db:
        logged = db.execute("SELECT count(*) FROM request_logs WHERE user_agent = ?",
                            (agent,)).fetchone()[0]
    assert logged == 3, f"exit {srv.proc.returncode}: " + srv.log()[-3000:]
