"""The cluster route: every process with its state; admins only; in the dashboard and the
detailed health for admins."""

from __future__ import annotations


async def test_cluster_lists_this_process_alive_for_admins(client, admin, settings):
    resp = await client.get("/api/monitoring/cluster", headers=admin.headers)
    assert resp.status_code == 200, resp.text
    processes = {p["executor_id"]: p for p in resp.json()["processes"]}
    me = processes[settings.executor_id]
    assert me["state"] == "alive"
    assert me["role"] == "serve"
    assert me["claimed_by"] is None and me["left_at"] is None
    assert me["last_seen"].endswith("Z") and me["started_at"] <= me["last_seen"]
    assert isinstance(me["running_tasks"], int) and isinstance(me["pid"], int)


async def test_cluster_is_forbidden_to_others(client, user):
    resp = await client.get("/api/monitoring/cluster", headers=user.headers)
    assert resp.status_code == 403
    assert resp.json()["error"]
    assert (await client.get("/api/monitoring/cluster")).status_code == 401


async def test_dashboard_and_detailed_health_show_the_cluster_to_admins(client, admin, user,
                                                                        settings):
    for path in ("/api/monitoring/health/dashboard", "/api/monitoring/health/detailed"):
        mine = (await client.get(path, headers=admin.headers)).json()
        assert settings.executor_id in {p["executor_id"] for p in mine["cluster"]}, path
        theirs = (await client.get(path, headers=user.headers)).json()
        assert theirs["cluster"] is None, path
    workers = (await client.get("/api/monitoring/health/detailed",
                                headers=user.headers)).json()["components"]["workers"]
    assert settings.executor_id in workers["executors"]
    assert workers["states"]["alive"] >= 1
