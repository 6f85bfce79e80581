"""Helpers of the tool attack tests: uploads, tool calls, archives, a setting for one test."""

from __future__ import annotations

import io
import tarfile
import zipfile
from contextlib import contextmanager


async def upload(client, user, path: str, content: bytes) -> dict:
    resp = await client.post("/api/workspace/files", headers=user.headers,
                             files={"file": ("f", io.BytesIO(content))}, data={"path": path})
    assert resp.status_code == 201, resp.text
    return resp.json()


async def execute(client, user, tool: str, parameters: dict) -> dict:
    resp = await client.post("/api/heavy/tools/execute", headers=user.headers,
                             json={"tool_name": tool, "parameters": parameters})
    assert resp.status_code == 200, resp.text
    return resp.json()


@contextmanager
def setting(settings, name: str, value):
    """Change one setting of the running server for one test (the object is the app's)."""
    old = getattr(settings, name)
    setattr(settings, name, value)
    try:
        yield
    finally:
        setattr(settings, name, old)


def make_zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def make_tar(entries: list[tuple[str, bytes | None]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                tf.addfile(info)
            else:
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


async def import_archive(client, user, content: bytes, name: str = "archive.zip"):
    return await client.post("/api/workspace/import", headers=user.headers,
                             files={"file": (name, content, "application/octet-stream")})


async def listing(client, user) -> dict[str, int]:
    resp = await client.get("/api/workspace/files", headers=user.headers,
                            params={"limit": 100})
    assert resp.status_code == 200, resp.text
    return {f["path"]: f["size"] for f in resp.json()}


def assert_quota_error(resp) -> None:
    assert resp.status_code == 413, resp.text
    body = resp.json()
    assert body["code"] == "QUOTA_EXCEEDED"
    assert "quota" in body["error"].lower()
