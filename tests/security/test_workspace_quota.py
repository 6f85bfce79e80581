"""Issue 13: no workspace quota (medium); an archive with `a` and `a/b` gave a 500 (low)."""

from __future__ import annotations

import io

import pytest

from tests.security.tool_helpers import (
    assert_quota_error,
    execute,
    import_archive,
    listing,
    make_tar,
    make_zip,
    setting,
    upload,
)


async def test_upload_over_the_quota_is_refused(client, register_user, settings):
    user = await register_user()
    with setting(settings, "workspace_quota_bytes", 100_000):
        await upload(client, user, "keep.bin", b"k" * 60_000)
        resp = await client.post("/api/workspace/files", headers=user.headers,
                                 files={"file": ("big.bin", io.BytesIO(b"b" * 50_000))})
        assert_quota_error(resp)
        assert await listing(client, user) == {"keep.bin": 60_000}
        # Replacing a file counts only the difference; what fits is stored.
        await upload(client, user, "keep.bin", b"k" * 90_000)
        await upload(client, user, "small.bin", b"s" * 10_000)
        assert await listing(client, user) == {"keep.bin": 90_000, "small.bin": 10_000}


async def test_archive_import_over_the_quota_extracts_nothing(client, register_user, settings):
    user = await register_user()
    with setting(settings, "workspace_quota_bytes", 100_000):
        await upload(client, user, "keep.bin", b"k" * 60_000)
        # Compresses to almost nothing: refused from its declared size, before unpacking.
        resp = await import_archive(client, user, make_zip({"x/one.txt": b"a" * 30_000,
                                                            "x/two.txt": b"a" * 30_000}))
        assert_quota_error(resp)
        assert await listing(client, user) == {"keep.bin": 60_000}
        staging = settings.workspaces_dir / ".staging"
        assert not [p for p in staging.iterdir() if p.name.startswith(f"{user.id}-")]
        resp = await import_archive(client, user, make_zip({"x/one.txt": b"a" * 30_000}))
        assert resp.status_code == 201, resp.text


async def test_tool_write_over_the_quota_fails_clearly(client, register_user, settings):
    user = await register_user()
    with setting(settings, "workspace_quota_bytes", 100_000):
        await upload(client, user, "keep.bin", b"k" * 60_000)
        resp = await client.post("/api/mcp/execute", headers=user.headers, json={
            "client_name": "workspace", "tool_name": "write_file",
            "parameters": {"path": "notes.txt", "content": "n" * 50_000}})
        body = resp.json()
        assert body["success"] is False and "quota" in body["error"].lower(), body
        heavy = await execute(client, user, "write_file",
                              {"path": "notes.txt", "content": "n" * 50_000})
        assert heavy["success"] is False and "quota" in heavy["error"].lower(), heavy
        assert await listing(client, user) == {"keep.bin": 60_000}
        ok = await execute(client, user, "write_file", {"path": "notes.txt", "content": "fits"})
        assert ok["success"] is True, ok


@pytest.mark.parametrize("archive,name", [
    (make_zip({"a": b"file", "a/b": b"below"}), "x.zip"),
    (make_zip({"a/b": b"below", "a": b"file"}), "x.zip"),
    (make_tar([("a", b"file"), ("a", None)]), "x.tar.gz"),
    (make_tar([("d", b"file"), ("d/e/f", b"deep")]), "x.tar.gz"),
])
async def test_file_and_directory_of_one_name_is_a_clear_400(client, register_user,
                                                             archive, name):
    user = await register_user()
    resp = await import_archive(client, user, archive, name)
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["code"] == "VALIDATION_ERROR"
    assert "a file and a directory" in body["error"]
    assert await listing(client, user) == {}
