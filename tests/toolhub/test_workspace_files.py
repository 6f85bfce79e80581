"""Workspace routes: upload, list, download, delete; another user's files are invisible."""

from __future__ import annotations

import pytest


async def upload(client, user, name, content: bytes, path=None):
    data = {"path": path} if path is not None else {}
    return await client.post("/api/workspace/files", headers=user.headers, data=data,
                             files={"file": (name, content, "application/octet-stream")})


async def test_upload_list_download_delete(client, user):
    resp = await upload(client, user, "main.py", b"print('hi')\n", "proj/src/main.py")
    assert resp.status_code == 201, resp.text
    assert resp.json()["path"] == "proj/src/main.py"
    assert resp.json()["size"] == 12
    resp = await upload(client, user, "README.md", b"# readme\n")
    assert resp.json()["path"] == "README.md"
    resp = await upload(client, user, "b.txt", b"b", "docs/")
    assert resp.json()["path"] == "docs/b.txt"

    resp = await client.get("/api/workspace/files", headers=user.headers)
    assert resp.status_code == 200
    paths = [f["path"] for f in resp.json()]
    assert {"proj/src/main.py", "README.md", "docs/b.txt"} <= set(paths)
    assert paths == sorted(paths)
    assert all(f["modified"].endswith("Z") for f in resp.json())
    resp = await client.get("/api/workspace/files", params={"prefix": "proj"},
                            headers=user.headers)
    assert [f["path"] for f in resp.json()] == ["proj/src/main.py"]

    resp = await client.get("/api/workspace/files/proj/src/main.py", headers=user.headers)
    assert resp.status_code == 200
    assert resp.content == b"print('hi')\n"

    resp = await client.delete("/api/workspace/files/proj/src/main.py", headers=user.headers)
    assert resp.status_code == 204
    resp = await client.get("/api/workspace/files/proj/src/main.py", headers=user.headers)
    assert resp.status_code == 404
    resp = await client.delete("/api/workspace/files/docs", headers=user.headers)
    assert resp.status_code == 204
    resp = await client.delete("/api/workspace/files/docs", headers=user.headers)
    assert resp.status_code == 404


async def test_other_users_workspace_is_invisible(client, user, other_user):
    await upload(client, user, "secret.txt", b"top secret", "private/secret.txt")
    resp = await client.get("/api/workspace/files", headers=other_user.headers)
    assert "private/secret.txt" not in [f["path"] for f in resp.json()]
    for path in ("private/secret.txt", f"../{user.id}/private/secret.txt"):
        resp = await client.get(f"/api/workspace/files/{path}", headers=other_user.headers)
        assert resp.status_code in (400, 404)
        assert b"top secret" not in resp.content
    resp = await client.delete("/api/workspace/files/private/secret.txt",
                               headers=other_user.headers)
    assert resp.status_code == 404
    resp = await client.get("/api/workspace/files/private/secret.txt", headers=user.headers)
    assert resp.content == b"top secret"


@pytest.mark.parametrize("path", ["../escape.txt", "/etc/passwd", "a/../../escape.txt",
                                  "..\\escape.txt"])
async def test_upload_refuses_paths_leaving_the_workspace(client, user, path, data_dir):
    resp = await upload(client, user, "x.txt", b"x", path)
    assert resp.status_code == 400, resp.text
    assert resp.json()["code"] == "VALIDATION_ERROR"
    assert not (data_dir / "workspaces" / "escape.txt").exists()


async def test_download_refuses_traversal_and_symlinks_out(client, user, data_dir, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("outside secret")
    await upload(client, user, "a.txt", b"a", "a.txt")
    root = data_dir / "workspaces" / str(user.id)
    (root / "link.txt").symlink_to(outside)
    resp = await client.get("/api/workspace/files/link.txt", headers=user.headers)
    assert resp.status_code == 400
    assert b"outside secret" not in resp.content
    resp = await client.get("/api/workspace/files/%2E%2E/%2E%2E/jwt_secret.key",
                            headers=user.headers)
    assert resp.status_code in (400, 404)
    assert (data_dir / "jwt_secret.key").read_text() not in resp.text
    # deleting the link removes the link, never its target
    resp = await client.delete("/api/workspace/files/link.txt", headers=user.headers)
    assert resp.status_code == 204
    assert outside.read_text() == "outside secret"


async def test_upload_size_limit(client, user, settings):
    old = settings.workspace_max_upload_bytes
    settings.workspace_max_upload_bytes = 1000
    try:
        resp = await upload(client, user, "big.bin", b"x" * 5000, "big.bin")
        assert resp.status_code == 413
        assert resp.json()["code"] == "PAYLOAD_TOO_LARGE"
        resp = await upload(client, user, "ok.bin", b"x" * 900, "ok.bin")
        assert resp.status_code == 201
    finally:
        settings.workspace_max_upload_bytes = old
    listing = (await client.get("/api/workspace/files", headers=user.headers)).json()
    assert "big.bin" not in [f["path"] for f in listing]


async def test_workspace_needs_sign_in_and_a_file(client, user):
    assert (await client.get("/api/workspace/files")).status_code == 401
    resp = await client.post("/api/workspace/files", headers=user.headers, data={"path": "x"})
    assert resp.status_code == 400
