"""How the console is served: pages, headers, assets, size, and the API left untouched."""

from __future__ import annotations

import gzip

from crazy_gary.console.router import STATIC


def test_index_and_client_routes_serve_the_app_with_a_strict_csp(http):
    for path in ("/", "/tasks", "/tasks/task_123", "/chat", "/models", "/admin", "/login"):
        resp = http.get(path)
        assert resp.status_code == 200, path
        assert resp.headers["content-type"].startswith("text/html")
        assert '<script type="module" src="/ui/js/main.js">' in resp.text
        csp = resp.headers["content-security-policy"]
        assert "script-src 'self';" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert "<script>" not in resp.text  # no inline script at all


def test_api_and_tooling_routes_are_not_shadowed(http):
    missing = http.post("/api/does-not-exist")
    assert missing.status_code == 404 and missing.json()["code"] == "NOT_FOUND"
    assert http.get("/api/tasks").status_code == 401
    assert http.get("/health").json()["status"] == "healthy"
    assert http.get("/openapi.json").json()["info"]["title"] == "Crazy Gary API"
    assert http.get("/docs").status_code == 200
    assert "crazy_gary" in http.get("/metrics").text
    assert http.get("/no-such-page").status_code == 404
    paths = http.get("/openapi.json").json()["paths"]
    assert not any(p == "/" or p.startswith("/ui") for p in paths)


def test_assets_are_served_and_first_load_is_small(http):
    total = 0
    for path in sorted(STATIC.rglob("*")):
        if path.is_file():
            rel = path.relative_to(STATIC).as_posix()
            resp = http.get(f"/ui/{rel}")
            assert resp.status_code == 200, rel
            assert resp.content == path.read_bytes()
            total += len(gzip.compress(resp.content))
    assert http.get("/ui/js/main.js").headers["content-type"].startswith(
        ("text/javascript", "application/javascript"))
    # Everything the console can load, compressed, is well under the 300 KB budget.
    assert total < 300 * 1024, total
    assert http.get("/ui/../app.py").status_code == 404
