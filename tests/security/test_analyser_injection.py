"""Issue 13, critical: a workspace name read as an analyser's option wrote files anywhere.

Replayed over HTTP against the real server; the file-write tests check that nothing
lands outside the workspace.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.security.tool_helpers import execute, upload


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
