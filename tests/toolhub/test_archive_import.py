"""Archive import: good archives unpack; zip-slip, links, devices and bombs are refused."""

from __future__ import annotations

import io
import os
import stat
import tarfile
import zipfile
from contextlib import contextmanager

import pytest


def make_zip(entries: dict[str, bytes], *, links: dict[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return buf.getvalue()


def make_tar(entries: dict[str, bytes], *, specials: list[tarfile.TarInfo] = (),
             mode: str = "w:gz") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        for info in specials:
            tf.addfile(info)
    return buf.getvalue()


def special(name: str, kind: bytes, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


async def import_archive(client, user, content: bytes, name="archive.zip", path=None):
    data = {"path": path} if path else {}
    return await client.post("/api/workspace/import", headers=user.headers, data=data,
                             files={"file": (name, content, "application/octet-stream")})


async def listing(client, user) -> set[str]:
    resp = await client.get("/api/workspace/files", headers=user.headers,
                            params={"limit": 100})
    return {f["path"] for f in resp.json()}


@contextmanager
def limits(settings, **values):
    old = {key: getattr(settings, key) for key in values}
    for key, value in values.items():
        setattr(settings, key, value)
    try:
        yield
    finally:
        for key, value in old.items():
            setattr(settings, key, value)


async def test_zip_and_tar_archives_unpack(client, user, other_user):
    archive = make_zip({"proj/src/app.py": b"API_KEY = 'x'\n", "proj/README.md": b"# proj\n",
                        "proj/empty/": b""})
    resp = await import_archive(client, user, archive)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["imported"] == 2
    assert {f["path"] for f in body["files"]} == {"proj/src/app.py", "proj/README.md"}

    resp = await import_archive(client, user, make_tar({"lib/util.py": b"def f(): pass\n"}),
                                name="lib.tar.gz", path="vendor")
    assert resp.status_code == 201, resp.text
    assert {"proj/src/app.py", "vendor/lib/util.py"} <= await listing(client, user)
    assert "vendor/lib/util.py" not in await listing(client, other_user)

    search = await client.post("/api/mcp/execute", headers=user.headers, json={
        "client_name": "workspace", "tool_name": "search_code",
        "parameters": {"query": "API_KEY", "repository": "proj"}})
    assert search.json()["result"]["files"][0]["path"] == "proj/src/app.py"


@pytest.mark.parametrize("bad_name", ["../../evil.txt", "/tmp/evil.txt", "ok/../../evil.txt",
                                      "..\\..\\evil.txt"])
async def test_zip_slip_is_refused_and_nothing_is_written(client, user, bad_name, data_dir):
    archive = make_zip({"good.txt": b"good", bad_name: b"evil"})
    resp = await import_archive(client, user, archive)
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["code"] == "VALIDATION_ERROR"
    assert any(bad_name in e for e in body["details"]["validation_errors"])
    assert "good.txt" not in await listing(client, user)  # all or nothing
    assert not list(data_dir.rglob("evil.txt"))


async def test_tar_slip_is_refused(client, user, data_dir):
    resp = await import_archive(client, user, make_tar({"../evil.txt": b"x"}), name="a.tgz")
    assert resp.status_code == 400
    assert not list(data_dir.rglob("evil.txt"))


async def test_links_and_devices_are_refused(client, user, data_dir):
    resp = await import_archive(client, user, make_zip({"a.txt": b"a"},
                                                       links={"passwd": "/etc/passwd"}))
    assert resp.status_code == 400
    assert "link" in str(resp.json()["details"]["validation_errors"])

    cases = [
        special("sym", tarfile.SYMTYPE, "/etc/passwd"),
        special("hard", tarfile.LNKTYPE, "/etc/passwd"),
        special("dev", tarfile.CHRTYPE),
        special("blk", tarfile.BLKTYPE),
        special("fifo", tarfile.FIFOTYPE),
    ]
    for info in cases:
        archive = make_tar({"fine.txt": b"fine"}, specials=[info], mode="w")
        resp = await import_archive(client, user, archive, name="a.tar")
        assert resp.status_code == 400, (info.name, resp.text)
        assert info.name in str(resp.json()["details"]["validation_errors"])
    root = data_dir / "workspaces" / str(user.id)
    assert not any(p.is_symlink() for p in root.rglob("*"))
    assert "fine.txt" not in await listing(client, user)


async def test_decompression_bombs_are_stopped(client, user, settings):
    zeros = b"\0" * (3 * 1024 * 1024)
    bomb = make_zip({"bomb.bin": zeros})
    assert len(bomb) < 20_000
    with limits(settings, workspace_max_extracted_bytes=1024 * 1024):
        resp = await import_archive(client, user, bomb)
    assert resp.status_code == 413
    assert resp.json()["code"] == "PAYLOAD_TOO_LARGE"

    # a single entry over the per-file limit is stopped while it is being unpacked
    with limits(settings, workspace_max_upload_bytes=1024 * 1024):
        resp = await import_archive(client, user, make_tar({"big.bin": zeros}), name="b.tgz")
    assert resp.status_code == 413
    assert "big.bin" not in await listing(client, user)

    many = make_zip({f"f{i}.txt": b"x" for i in range(11)})
    with limits(settings, workspace_max_archive_files=10):
        resp = await import_archive(client, user, many)
    assert resp.status_code == 400
    assert "limit" in resp.json()["error"]

    with limits(settings, workspace_max_archive_bytes=1000):
        resp = await import_archive(client, user, make_zip({"r.bin": os.urandom(5000)}))
    assert resp.status_code == 413


async def test_not_an_archive(client, user):
    resp = await import_archive(client, user, b"just some text", name="notes.txt")
    assert resp.status_code == 400
    assert "archive" in resp.json()["error"]
