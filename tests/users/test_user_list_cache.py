"""The user list is served from encoded pages while the users table is unchanged; a change
by anyone, even plain SQL from another process, is seen by the very next request."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import create_engine, text

from crazy_gary.config import to_sync_url
from tests.support import register


async def _last_page(client, admin, **headers) -> list[dict]:
    total = int((await client.get("/api/users", headers=admin.headers)).headers["X-Total-Count"])
    resp = await client.get("/api/users", params={"limit": 1, "offset": total - 1},
                            headers={**admin.headers, **headers})
    assert resp.status_code == 200, resp.text
    return resp.json()


async def _db_spans(client, admin, request_id: str) -> int:
    """How many queries the request with this id ran (every request is traced in tests)."""
    for _ in range(100):
        traces = (await client.get("/api/observability/traces/active", headers=admin.headers,
                                   params={"limit": 100})).json()
        mine = [t for t in traces if t["tags"].get("request_id") == request_id]
        if mine:
            return mine[0]["span_count"] - 1  # the request's own span
        await asyncio.sleep(0.05)
    raise AssertionError(f"no trace for {request_id}")


async def test_a_change_by_plain_sql_is_seen_by_the_next_list(client, admin, settings):
    newest = await register(client)
    assert (await _last_page(client, admin))[0]["id"] == newest.id
    engine = create_engine(to_sync_url(settings.sqlalchemy_url))
    try:
        with engine.begin() as conn:  # as another process or an operator's script would
            conn.execute(text("UPDATE users SET name = 'Renamed behind' WHERE id = :id"),
                         {"id": newest.id})
        assert (await _last_page(client, admin))[0]["name"] == "Renamed behind"
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM users WHERE id = :id"), {"id": newest.id})
        assert (await _last_page(client, admin))[0]["id"] != newest.id
    finally:
        engine.dispose()


async def test_changes_through_the_api_are_seen_at_once(client, admin):
    made = await register(client)
    assert (await _last_page(client, admin))[0]["id"] == made.id
    renamed = await client.put(f"/api/users/{made.id}", headers=admin.headers,
                               json={"name": "Renamed by admin"})
    assert renamed.status_code == 200
    assert (await _last_page(client, admin))[0]["name"] == "Renamed by admin"
    assert (await client.delete(f"/api/users/{made.id}", headers=admin.headers)).status_code == 204
    assert (await _last_page(client, admin))[0]["id"] != made.id


async def test_an_unchanged_page_skips_the_page_query_unless_asked_for_fresh(client, admin):
    params = {"limit": 3, "offset": 0}

    async def listed(**headers) -> tuple[bytes, int]:
        # The signed-in admin comes from the user cache (a query only when it expires):
        # refresh it just before, so only the list's own queries are counted.
        assert (await client.get("/api/auth/me", headers=admin.headers)).status_code == 200
        request_id = f"list-{uuid.uuid4().hex[:12]}"
        resp = await client.get("/api/users", params=params,
                                headers={**admin.headers, "X-Request-ID": request_id, **headers})
        assert resp.status_code == 200
        return resp.content, await _db_spans(client, admin, request_id)

    await register(client)  # the users table changed: the next read is a miss
    first, first_queries = await listed()
    again, again_queries = await listed()
    fresh, fresh_queries = await listed(**{"Cache-Control": "no-cache"})
    assert first == again == fresh
    assert first_queries == 2 and fresh_queries == 2  # the version, then the page
    assert again_queries == 1  # the version only
