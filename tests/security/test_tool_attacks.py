"""Attacks on the tools (issue 13), replayed over HTTP against the real server.

Each test is the attack as a user with an ordinary account would make it; it fails on
code that has the hole and passes once the hole (and its class) is closed.
"""

from __future__ import annotations

import asyncio
import io
import re
import tarfile
import time
import zipfile
from contextlib import contextmanager
from pathlib import Path

import pytest


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


# 1. option injection: a workspace name that reads as a command-line option --------------
@pytest.mark.parametrize("kind", ["performance", "quality", "security"])
async def test_option_named_file_cannot_make_an_analyser_write_outside(
        client, register_user, tmp_path: Path, kind: str):
    user = await register_user()
    outside = tmp_path / "poc" / "written.json"
    outside.parent.mkdir()
    name = f"--output-file={outside}"
    stored = await upload(client, user, name, b"import os\n")
    assert stored["path"].startswith("--output-file=")  # such names are fine to store
    body = await execute(client, user, "code_analyzer", {"target": name, "type": kind})
    assert not outside.exists(), "an analyser wrote outside the workspace"
    assert list(outside.parent.iterdir()) == []
    # The file is analysed as a file: found by name, not taken as an option.
    assert body["success"] is True, body
    assert body["result"]["target"] == name
    if kind == "quality":  # ruff lints a file it is given by name whatever its extension
        assert [f["rule"] for f in body["result"]["findings"] if f["file"] == name] == ["F401"]


@pytest.mark.parametrize("name", ["-o/tmp/x.json", "--config=evil.toml", "-", "--"])
async def test_every_dash_name_is_analysed_as_a_file(client, register_user, name: str):
    user = await register_user()
    await upload(client, user, f"{name}/m.py", b"def f(x):\n    return [i for i in x]\n")
    body = await execute(client, user, "code_analyzer", {"target": name, "type": "all"})
    assert body["success"] is True, body
    assert body["result"]["metrics"]["files_analyzed"] == 1


async def test_uploaded_radon_configuration_cannot_name_an_output_file(
        client, register_user, tmp_path: Path):
    """The same hole through a configuration file radon picks up from its directory."""
    user = await register_user()
    outside = tmp_path / "written.json"
    await upload(client, user, "radon.cfg", f"[radon]\noutput_file = {outside}\n".encode())
    await upload(client, user, "proj/m.py", b"def f(x):\n    return x\n")
    body = await execute(client, user, "code_analyzer", {"target": "proj", "type": "all"})
    assert not outside.exists(), "radon wrote where an uploaded radon.cfg told it"
    assert body["success"] is True, body
    assert body["result"]["metrics"]["files_analyzed"] == 1


async def test_uploaded_bandit_configuration_is_not_read(client, register_user):
    """A `.bandit` among the targets would set bandit's options (skips, baseline, output)."""
    user = await register_user()
    await upload(client, user, "proj/.bandit", b"[bandit]\nskips = B301,B403\n")
    await upload(client, user, "proj/m.py", b"import pickle\npickle.loads(b'')\n")
    body = await execute(client, user, "code_analyzer", {"target": "proj", "type": "security"})
    assert body["success"] is True, body
    rules = {f["rule"] for f in body["result"]["vulnerabilities"]}
    assert {"B301", "B403"} <= rules


async def test_normally_named_file_is_still_analysed(client, register_user):
    user = await register_user()
    source = b"import subprocess\n\ndef run(cmd):\n    subprocess.call(cmd, shell=True)\n"
    await upload(client, user, "pkg/run.py", source)
    body = await execute(client, user, "code_analyzer", {"target": "pkg/run.py",
                                                         "type": "security"})
    assert body["success"] is True, body
    found = [(f["file"], f["line"], f["type"]) for f in body["result"]["vulnerabilities"]]
    assert ("pkg/run.py", 4, "Command Injection") in found


def test_no_external_program_is_started_outside_the_guarded_helper():
    """The class of bug: only `processes.run_json` starts analysers; the one other child
    process is the operator's own model command (configuration, never user input)."""
    src = Path(__file__).resolve().parents[2] / "src" / "crazy_gary"
    spawn = re.compile(r"create_subprocess_(exec|shell)|\bsubprocess\.|os\.(system|popen|"
                       r"spawn|exec)|\bPopen\(|pty\.spawn")
    allowed = {"heavy/tools/processes.py", "endpoints/providers.py"}
    found = {p.relative_to(src).as_posix() for p in src.rglob("*.py")
             if spawn.search(p.read_text())}
    assert found <= allowed, f"child processes started outside the guarded helper: {found}"
    assert "heavy/tools/processes.py" in found


# 2. ReDoS: a user's regular expression must not freeze the process ----------------------
async def test_catastrophic_regex_does_not_freeze_the_service(client, register_user):
    user = await register_user()
    await upload(client, user, "victim/a.txt", b"a" * 26 + b"!\n")
    latencies: list[float] = []
    done = asyncio.Event()

    async def probe():
        while not done.is_set():
            started = time.monotonic()
            resp = await client.get("/health/live")
            assert resp.status_code == 200
            latencies.append(time.monotonic() - started)
            await asyncio.sleep(0.05)

    prober = asyncio.create_task(probe())
    await asyncio.sleep(0.2)
    started = time.monotonic()
    try:
        resp = await client.post("/api/mcp/execute", headers=user.headers, json={
            "client_name": "workspace", "tool_name": "search_code",
            "parameters": {"query": "(a+)+$", "repository": "victim"}})
        took = time.monotonic() - started
        await asyncio.sleep(0.2)
    finally:
        done.set()
        await prober
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["success"] is True and body["result"]["total_matches"] == 0, body
    assert took < 2.0, f"the search took {took:.1f} s"
    # Unbounded backtracking held the GIL for 4.6 s here; 1 s leaves room for a busy machine.
    assert len(latencies) >= 3 and max(latencies) < 1.0, \
        f"/health/live answered in up to {max(latencies):.2f} s while the search ran"


@pytest.mark.parametrize("query,expected", [
    (r"def \w+\(", 1),          # ordinary regular expressions keep working
    (r"(x)\1", 1),              # RE2 refuses backreferences: searched as literal text
    ("(a+)+$", 0),
])
async def test_search_code_regex_behaviour_on_re2(client, register_user, query, expected):
    user = await register_user()
    await upload(client, user, "src/m.py", b"def run(x):\n    return '(x)\\1'\n")
    resp = await client.post("/api/mcp/execute", headers=user.headers, json={
        "client_name": "workspace", "tool_name": "search_code",
        "parameters": {"query": query}})
    body = resp.json()
    assert body["success"] is True, body
    assert body["result"]["total_matches"] == expected


# 3. heavy references that multiply memory ------------------------------------------------
def _amplifying_workflow(repeat: int) -> list[dict]:
    return [
        {"step": 1, "tool": "wait", "parameters": {"seconds": 0, "value": "x" * 1000}},
        {"step": 2, "tool": "wait",
         "parameters": {"seconds": 0, "value": "$steps.1.result" * repeat}},
        {"step": 3, "tool": "wait",
         "parameters": {"seconds": 0, "value": "$steps.2.result" * repeat}},
    ]


async def test_reference_amplification_is_refused_with_a_clear_error(client, register_user):
    from tests.heavy.helpers import orchestrate, step_of, wait_done

    user = await register_user()
    started = await orchestrate(client, user, {"workflow": _amplifying_workflow(50)})
    body = await wait_done(client, user, started["orchestration_id"])
    resp = await client.get("/api/heavy/progress", headers=user.headers,
                            params={"orchestration_id": started["orchestration_id"]})
    assert len(resp.content) < 256 * 1024, f"progress body of {len(resp.content)} bytes"
    assert step_of(body, 2)["status"] == "completed"  # 50 KB: within the limit
    third = step_of(body, 3)
    assert third["status"] == "failed"
    assert "limit" in third["error"] and "1048576 bytes" in third["error"], third["error"]


async def test_oversized_step_result_is_not_stored(client, register_user):
    """read_file gives at most 1 MiB of text, but quotes double in JSON."""
    from tests.heavy.helpers import orchestrate, step_of, wait_done

    user = await register_user()
    await upload(client, user, "quotes.txt", b'"' * (1024 * 1024 - 10))
    started = await orchestrate(client, user, {"workflow": [
        {"step": 1, "tool": "read_file", "parameters": {"path": "quotes.txt"}}]})
    body = await wait_done(client, user, started["orchestration_id"])
    first = step_of(body, 1)
    assert first["status"] == "failed" and "limit for a step's result" in first["error"]
    assert body["results"][0]["result"] is None
    direct = await execute(client, user, "read_file", {"path": "quotes.txt"})
    assert direct["success"] is False and "limit" in direct["error"]
    assert direct["result"] is None


async def test_report_generator_refuses_findings_over_the_limit(client, register_user):
    """The report expands its findings into a file: its input is bounded like parameters."""
    from crazy_gary.config import get_settings

    user = await register_user()
    findings = [{"file": f"m{i}.py", "line": i, "severity": "low", "type": "Style",
                 "description": "d" * 200} for i in range(1000)]  # about 260 KB
    heavy = get_settings()  # the heavy tools' settings (this process runs the server)
    old = heavy.heavy_max_parameters_bytes
    heavy.heavy_max_parameters_bytes = 100 * 1024
    try:
        body = await execute(client, user, "report_generator",
                             {"format": "json", "findings": findings, "output": "r.json"})
    finally:
        heavy.heavy_max_parameters_bytes = old
    assert body["success"] is False and "limit is 102400 bytes" in body["error"], body
    assert await listing(client, user) == {}
    body = await execute(client, user, "report_generator",
                         {"format": "json", "findings": findings[:10], "output": "r.json"})
    assert body["success"] is True, body


# 4. the workspace quota -------------------------------------------------------------------
@contextmanager
def quota_of(settings, size: int):
    """The shared server's settings object is the app's: change the quota for one test."""
    old = settings.workspace_quota_bytes
    settings.workspace_quota_bytes = size
    try:
        yield
    finally:
        settings.workspace_quota_bytes = old


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


async def test_upload_over_the_quota_is_refused(client, register_user, settings):
    user = await register_user()
    with quota_of(settings, 100_000):
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
    with quota_of(settings, 100_000):
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
    with quota_of(settings, 100_000):
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


# 5. an archive with a file and a directory of the same name -------------------------------
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
