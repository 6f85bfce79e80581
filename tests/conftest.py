"""Shared fixtures: one real server (API + durable engine) for the session.

The server runs the real app, database and engine on SQLite by default, on
PostgreSQL when TEST_DATABASE_URL is set, with Redis when TEST_REDIS_URL is set.
Only one durable engine can run per process, so tests that need another
configuration start `ProcessServer`s.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import create_engine, text

from tests.support import AuthedUser, ThreadServer, register, unique_email

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")
RUN_ID = uuid.uuid4().hex[:8]


def reset_postgres(url: str) -> None:
    """Fresh schema for the application database and the engine's system database."""
    from crazy_gary.config import Settings

    sync = url.replace("postgresql+asyncpg://", "postgresql://").replace(
        "postgresql://", "postgresql+psycopg://")
    engine = create_engine(sync, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    sys_url = Settings(DATABASE_URL=url).dbos_system_database_url
    base, _, name = sys_url.rpartition("/")
    admin = create_engine(
        base.replace("postgresql://", "postgresql+psycopg://") + "/postgres",
        isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="crazy-gary-test-"))


@pytest.fixture(scope="session")
def base_env(data_dir: Path) -> dict[str, str]:
    """Environment every server of the test session shares."""
    env = {
        "CRAZY_GARY_DATA_DIR": str(data_dir),
        "RATE_LIMITS_ENABLED": "false",
        # Trace every request: tests look for the trace of the request they just made.
        "TRACE_READS_PER_SECOND": "0",
        # Tasks start sooner than the default allows: the suite waits on many of them.
        "QUEUE_POLLING_INTERVAL": "0.1",
        # A schedule created in a test fires within a second on every process.
        "SCHEDULES_POLL_SECONDS": "0.5",
        "HUGGINGFACE_API_KEY": "test-hf-key",
        "ENVIRONMENT": "test",
        "REDIS_NAMESPACE": f"cg-test-{RUN_ID}",
        # A stopping server waits this long for model and tool calls in flight (tests that
        # leave slow calls behind must not hold the session's end).
        "SHUTDOWN_GRACE_SECONDS": "2",
        # Webhook receivers in tests listen on loopback; retries come within seconds.
        "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true",
        "WEBHOOK_RETRY_SCHEDULE": "0.3,0.6,1,2,4",
        "WEBHOOK_TIMEOUT_SECONDS": "3",
    }
    if TEST_DATABASE_URL:
        env["DATABASE_URL"] = TEST_DATABASE_URL
    if TEST_REDIS_URL:
        env["REDIS_URL"] = TEST_REDIS_URL
    return env


@pytest.fixture(scope="session")
def model_standin():
    """The scripted OpenAI-compatible stand-in both models of the shared server talk to."""
    from tests.fakes.openai_standin import ScriptedModelServer

    srv = ScriptedModelServer().start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def extra_server_env(model_standin, data_dir: Path) -> dict[str, str]:
    """Domain test set-ups (model stand-ins, MCP config) extend the server's environment."""
    from tests.toolhub.servers import write_session_mcp_config

    return {
        # Bare URLs (no lifecycle): both models always reachable through the stand-in.
        "MODEL_120B_BASE_URL": model_standin.url,
        "MODEL_20B_BASE_URL": model_standin.url,
        "MODEL_RETRY_BACKOFF_SECONDS": "0.05",
        "MCP_CONFIG": str(write_session_mcp_config(data_dir)),  # time + git MCP servers
    }


@pytest.fixture(scope="session")
def server_env(base_env: dict[str, str], extra_server_env: dict[str, str]) -> dict[str, str]:
    return {**base_env, **extra_server_env}


@pytest.fixture(scope="session")
def settings(server_env: dict[str, str]):
    from crazy_gary.config import Settings

    for key, value in server_env.items():
        os.environ[key] = value
    return Settings()


@pytest.fixture(scope="session")
def server(settings):
    """The real service (API, engine, schedulers) on a real port."""
    from crazy_gary.asgi import build_asgi

    if TEST_DATABASE_URL:
        reset_postgres(TEST_DATABASE_URL)
    srv = ThreadServer(build_asgi(settings)).start()
    yield srv
    srv.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def client(server):
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as c:
        yield c


@pytest_asyncio.fixture(loop_scope="session")
async def user(client) -> AuthedUser:
    return await register(client)


@pytest_asyncio.fixture(loop_scope="session")
async def other_user(client) -> AuthedUser:
    return await register(client)


@pytest_asyncio.fixture(loop_scope="session")
async def admin(client, settings) -> AuthedUser:
    """A fresh administrator, created the way an operator does (create-admin)."""
    from crazy_gary.users.bootstrap import ensure_admin
    from tests.support import login

    email, password = unique_email("admin"), "Adm1n-password"
    await ensure_admin(settings, email=email, password=password, name="Admin")
    return await login(client, email, password)


@pytest.fixture(scope="session")
def counter(server, data_dir):
    """A counting MCP server (`counter`: tally, slow, bulk) plugged into the shared hub."""
    from tests.tasks.helpers import add_counter_server

    path = data_dir / "counter.log"
    remove = add_counter_server(server, path)
    yield path
    remove()


@pytest_asyncio.fixture(loop_scope="session")
async def register_user(client):
    """A factory of fresh users (for tests that need a clean slate of their own)."""

    async def make() -> AuthedUser:
        return await register(client)

    return make
