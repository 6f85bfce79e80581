"""A database that refuses work for now answers 503 with Retry-After in the contract's
format, not a 500: real refusals from SQLite and PostgreSQL through the service's own
error handlers."""

from __future__ import annotations

import os
import sqlite3

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import create_async_engine

from crazy_gary.errors import install_error_handlers
from crazy_gary.kit.middleware import RequestIdMiddleware
from tests.kit.test_errors import assert_error

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
NO_CONNECTIONS_ROLE = "cg_no_connections"


def app_reading(url: str, **engine_args) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(RequestIdMiddleware)
    engine = create_async_engine(url, **engine_args)

    @app.post("/write")
    async def write():
        async with engine.begin() as conn:
            await conn.execute(sa.text("INSERT INTO notes VALUES (1)"))
        return {"ok": True}

    @app.get("/broken")
    async def broken():
        async with engine.connect() as conn:
            await conn.execute(sa.text("SELECT * FROM no_such_table"))

    return app


async def call(app: FastAPI, method: str, path: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                                 base_url="http://test") as client:
        return await client.request(method, path)


async def test_a_locked_sqlite_file_is_503_with_retry_after(tmp_path):
    path = tmp_path / "app.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE notes (n INTEGER)")
    holder.execute("BEGIN EXCLUSIVE")  # another writer holds the file
    try:
        app = app_reading(f"sqlite+aiosqlite:///{path}", connect_args={"timeout": 0.1})
        resp = await call(app, "POST", "/write")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    body = assert_error(resp, 503, "SERVICE_UNAVAILABLE")
    assert resp.headers["Retry-After"] == "2"
    assert "try again" in body["error"] and "Traceback" not in resp.text


async def test_a_fault_in_the_query_stays_a_bare_500(tmp_path):
    app = app_reading(f"sqlite+aiosqlite:///{tmp_path / 'app.db'}")
    resp = await call(app, "GET", "/broken")
    assert_error(resp, 500, "INTERNAL_ERROR")
    assert "no_such_table" not in resp.text and "Retry-After" not in resp.headers


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs TEST_DATABASE_URL")
async def test_postgresql_refusing_connections_is_503():
    base = TEST_DATABASE_URL.replace("postgresql://", "postgresql+psycopg://")
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"),
                             {"r": NO_CONNECTIONS_ROLE})
        if not exists:
            conn.execute(sa.text(f"CREATE ROLE {NO_CONNECTIONS_ROLE} LOGIN CONNECTION LIMIT 0"))
    admin.dispose()
    host_and_db = TEST_DATABASE_URL.split("@", 1)[1]
    app = app_reading(f"postgresql+asyncpg://{NO_CONNECTIONS_ROLE}@{host_and_db}")
    resp = await call(app, "POST", "/write")
    assert_error(resp, 503, "SERVICE_UNAVAILABLE")
    assert resp.headers["Retry-After"] == "2"
    assert "too many" not in resp.text
