"""Account attacks from the penetration test (issue 13), each replayed over HTTP.

A deleted user's token must not speak for the account that comes after it, logging out
must end the access token too, an email change needs the current password, and deleting a
user with running work stops that work first.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import delete, insert, select

from crazy_gary.auth.cache import invalidate
from crazy_gary.auth.models import User
from crazy_gary.db import session_scope
from tests.support import login, register
from tests.tasks.helpers import marker, run_task, tag, wait_for


async def upload(client, user, path: str, content: bytes = b"secret") -> None:
    resp = await client.post("/api/workspace/files", headers=user.headers, data={"path": path},
                             files={"file": ("f.txt", content)})
    assert resp.status_code == 201, resp.text


async def assert_auth_required(client, token: str, path: str = "/api/auth/me") -> None:
    resp = await client.get(path, headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 401, resp.text
    assert resp.json()["code"] == "AUTH_REQUIRED"


async def test_a_deleted_users_token_and_data_do_not_pass_to_the_next_account(
        client, admin, settings):
    victim = await register(client)
    await upload(client, victim, "notes/private.txt")
    created = await client.post("/api/tasks", headers=victim.headers,
                                json={"title": "victim's task", "description": "private"})
    assert created.status_code == 201, created.text
    workspace = settings.workspaces_dir / str(victim.id)
    assert (workspace / "notes" / "private.txt").exists()

    deleted = await client.delete(f"/api/users/{victim.id}", headers=admin.headers)
    assert deleted.status_code == 204
    successor = await register(client)

    assert successor.id != victim.id  # ids are never reused
    await assert_auth_required(client, victim.token)
    spent = await client.post("/api/auth/refresh",
                              headers={"Authorization": f"Bearer {victim.refresh_token}"})
    assert spent.status_code == 401
    assert not workspace.exists()  # the deleted user's files are gone from disk
    files = await client.get("/api/workspace/files", headers=successor.headers)
    assert files.status_code == 200 and files.json() == []
    tasks = await client.get("/api/tasks", headers=successor.headers)
    assert tasks.status_code == 200 and tasks.json() == []


async def test_a_token_is_bound_to_its_account_not_to_the_number(client, server):
    """A row put back under the same id (a restored or rebuilt database) is another
    account: the earlier account's tokens do not open it."""
    first = await register(client)

    async def replace_row() -> None:
        async with session_scope() as session:
            row = (await session.execute(
                select(User.__table__).where(User.id == first.id))).mappings().one()
            await session.execute(delete(User).where(User.id == first.id))
            await session.flush()
            replaced = {**row, "email": f"new-{row['email']}", "username": f"n{row['username']}"}
            replaced["created_at"] = row["created_at"].replace(year=row["created_at"].year + 1)
            await session.execute(insert(User.__table__).values(**replaced))
        invalidate(first.id)  # what the cache's period would do on its own

    await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(replace_row(), server.loop))
    await assert_auth_required(client, first.token)
    refreshed = await client.post("/api/auth/refresh",
                                  headers={"Authorization": f"Bearer {first.refresh_token}"})
    assert refreshed.status_code == 401


async def test_logout_ends_the_access_token(client):
    user = await register(client)
    assert (await client.get("/api/auth/me", headers=user.headers)).status_code == 200
    out = await client.post("/api/auth/logout", headers=user.headers)
    assert out.status_code == 200, out.text
    await assert_auth_required(client, user.token)
    await assert_auth_required(client, user.token, "/api/tasks")
    # Signing in again works, with a token of its own.
    again = await login(client, user.email, user.password)
    assert (await client.get("/api/auth/me", headers=again.headers)).status_code == 200


async def test_user_from_token_refuses_every_revoked_token(client, server, settings, admin):
    """The function open streams use to re-check their token after a revocation."""
    from crazy_gary.auth.cache import UserCache
    from crazy_gary.auth.dependencies import user_from_token
    from crazy_gary.db import get_database
    from crazy_gary.errors import AuthRequired

    async def accepted(token: str) -> bool:
        cache = UserCache(5.0)
        try:
            await user_from_token(get_database(), settings, token, cache)
        except AuthRequired:
            return False
        return True

    def check(token: str) -> bool:
        return asyncio.run_coroutine_threadsafe(accepted(token), server.loop).result(30)

    logged_out, changed, removed = [await register(client) for _ in range(3)]
    assert all(check(u.token) for u in (logged_out, changed, removed))
    await client.post("/api/auth/logout", headers=logged_out.headers)
    resp = await client.post("/api/auth/change-password", headers=changed.headers,
                             json={"current_password": changed.password,
                                   "new_password": "Another-pass-9"})
    assert resp.status_code == 200, resp.text
    assert check(resp.json()["token"])
    await client.delete(f"/api/users/{removed.id}", headers=admin.headers)
    assert not any(check(u.token) for u in (logged_out, changed, removed))


async def test_changing_your_own_email_needs_the_current_password(client, admin):
    user = await register(client)
    new_email = f"moved-{user.email}"
    bare = await client.put(f"/api/users/{user.id}", headers=user.headers,
                            json={"email": new_email})
    assert bare.status_code == 400, bare.text
    assert any("current_password" in p for p in bare.json()["details"]["validation_errors"])
    wrong = await client.put(f"/api/users/{user.id}", headers=user.headers,
                             json={"email": new_email, "current_password": "Wrong-pass-1"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "INVALID_CREDENTIALS"
    me = (await client.get("/api/auth/me", headers=user.headers)).json()["user"]
    assert me["email"] == user.email  # neither attempt changed it
    # The same email (no change) and other fields need no password.
    same = await client.put(f"/api/users/{user.id}", headers=user.headers,
                            json={"email": user.email, "name": "Renamed"})
    assert same.status_code == 200, same.text
    ok = await client.put(f"/api/users/{user.id}", headers=user.headers,
                          json={"email": new_email, "current_password": user.password})
    assert ok.status_code == 200 and ok.json()["email"] == new_email
    # An administrator changes another user's email without that user's password.
    by_admin = await client.put(f"/api/users/{user.id}", headers=admin.headers,
                                json={"email": f"admin-set-{user.email}"})
    assert by_admin.status_code == 200, by_admin.text


class _Errors(logging.Handler):
    """Error records (any logger) mentioning a task or a broken foreign key."""

    def __init__(self, needle: str) -> None:
        super().__init__(logging.ERROR)
        self.needle = needle
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        if self.needle in text or "FOREIGN KEY" in text.upper() or "IntegrityError" in text:
            self.found.append(text[:2000])


async def test_deleting_a_user_with_a_running_task_stops_it_first(
        client, admin, server, model_standin, register_user):
    from dbos import DBOS

    user = await register_user()
    script = tag("del")
    # The model takes a while to answer: the task is mid-call when its owner is deleted.
    model_standin.script(script, [{"content": "1. think", "delay": 1.5},
                                  {"content": "done", "delay": 1.5}])
    task_id = await run_task(client, user, script)
    await wait_for(client, user, task_id, statuses=("running",), phase="planning")
    errors = _Errors(task_id)
    logging.getLogger().addHandler(errors)
    try:
        deleted = await client.delete(f"/api/users/{user.id}", headers=admin.headers)
        assert deleted.status_code == 204, deleted.text
        status = await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(
            DBOS.get_workflow_status_async(task_id), server.loop))
        assert status is not None and status.status == "CANCELLED"
        await asyncio.sleep(4)  # past the model's answer: nothing may write for the task now
    finally:
        logging.getLogger().removeHandler(errors)
    assert errors.found == []
    assert (await client.get("/health/live")).status_code == 200
    # The workers still run other users' tasks.
    other = await register_user()
    follow = tag("after")
    model_standin.script(follow, [{"content": "1. go"}, {"content": "fine"}])
    done = await wait_for(client, other, await run_task(client, other, follow))
    assert done["status"] == "completed", done
    assert marker(follow) not in done.get("answer", "")


def test_the_migration_keeps_every_row_and_ids_stop_coming_back(tmp_path):
    """An existing SQLite database upgraded in place: rows, ids and the rows that refer to
    a user survive the rebuild, and a deleted user's id is not handed out again."""
    import sqlite3

    from alembic import command

    from crazy_gary.migrations import alembic_config, upgrade

    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    config = alembic_config(url)
    for revision in ("0003_endpoints", "0005_monitoring", "0006_tasks", "0007_heavy",
                     "0008_data_versions"):
        command.upgrade(config, revision)
    stamp = "2026-01-01 00:00:00"
    with sqlite3.connect(tmp_path / "old.db") as db:
        for uid in (1, 2):
            db.execute("INSERT INTO users (id, email, username, name, role, token_version, "
                       "created_at, updated_at) VALUES (?, ?, ?, 'n', 'user', 0, ?, ?)",
                       (uid, f"u{uid}@example.com", f"user{uid}", stamp, stamp))
        db.execute("INSERT INTO refresh_tokens (jti, user_id, family_id, issued_at, expires_at) "
                   "VALUES ('j', 2, 'f', ?, ?)", (stamp, stamp))
        db.execute("INSERT INTO events (event, user_id, data, created_at) VALUES "
                   "('e', 2, '{}', ?)", (stamp,))
    upgrade(url)
    db = sqlite3.connect(tmp_path / "old.db")
    try:
        db.execute("PRAGMA foreign_keys=ON")
        assert db.execute("SELECT count(*) FROM refresh_tokens").fetchone() == (1,)
        assert db.execute("SELECT count(*) FROM events WHERE user_id = 2").fetchone() == (1,)
        version = db.execute("SELECT version FROM data_versions WHERE name = 'users'").fetchone()
        db.execute("DELETE FROM users WHERE id = 2")
        assert db.execute("SELECT count(*) FROM events").fetchone() == (0,)  # cascade kept
        db.execute("INSERT INTO users (email, username, name, role, token_version, created_at, "
                   "updated_at) VALUES ('new@example.com', 'new', 'n', 'user', 0, ?, ?)",
                   (stamp, stamp))
        assert db.execute("SELECT id FROM users WHERE username = 'new'").fetchone() == (3,)
        # the users table's version triggers came back with the rebuilt table
        after = db.execute("SELECT version FROM data_versions WHERE name = 'users'").fetchone()
        assert after[0] == version[0] + 2
    finally:
        db.close()


async def test_deleting_a_user_with_a_running_orchestration_stops_it_first(
        client, admin, server, register_user):
    from dbos import DBOS

    from tests.heavy.helpers import orchestrate, step_of, wait_until

    user = await register_user()
    started = await orchestrate(client, user, {
        "workflow": [{"step": 1, "tool": "wait", "parameters": {"seconds": 60}}],
        "config": {"timeout": 600, "parallel": False}})
    orch_id = started["orchestration_id"]
    await wait_until(client, user, orch_id, lambda b: step_of(b, 1)["status"] == "running")
    errors = _Errors(orch_id)
    logging.getLogger().addHandler(errors)
    try:
        deleted = await client.delete(f"/api/users/{user.id}", headers=admin.headers)
        assert deleted.status_code == 204, deleted.text
        status = await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(
            DBOS.get_workflow_status_async(orch_id), server.loop))
        assert status is not None and status.status == "CANCELLED"
        await asyncio.sleep(2)
    finally:
        logging.getLogger().removeHandler(errors)
    assert errors.found == []
    assert (await client.get("/health/live")).status_code == 200


def test_every_integer_id_on_sqlite_is_autoincrement(tmp_path):
    """The rule, not just the users table: a later table with an integer id that forgets
    `sqlite_autoincrement` fails here."""
    import sqlite3

    from crazy_gary.migrations import upgrade

    upgrade(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")
    with sqlite3.connect(tmp_path / "fresh.db") as db:
        tables = [name for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        integer_ids = []
        for table in tables:
            keys = [(row[2].upper(), row[5]) for row in db.execute(f"PRAGMA table_info('{table}')")
                    if row[5]]
            if len(keys) == 1 and keys[0][0] in ("INTEGER", "BIGINT"):
                integer_ids.append(table)
        assert "users" in integer_ids and "events" in integer_ids
        plain = [t for t in integer_ids if "AUTOINCREMENT" not in db.execute(
            "SELECT sql FROM sqlite_master WHERE name = ?", (t,)).fetchone()[0].upper()]
    assert plain == []
