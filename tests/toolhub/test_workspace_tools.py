"""The built-in workspace client: the agent's file tools stay inside the caller's workspace."""

from __future__ import annotations

import pytest

from crazy_gary.toolhub import get_hub


async def run(client, user, tool, parameters):
    resp = await client.post("/api/mcp/execute", headers=user.headers, json={
        "client_name": "workspace", "tool_name": tool, "parameters": parameters})
    assert resp.status_code == 200, resp.text
    return resp.json()


async def test_write_read_list_and_search(client, user):
    code = "import os\n\ndef login():\n    password = input('Password: ')\n    return password\n"
    body = await run(client, user, "write_file", {"path": "repo/src/auth.py", "content": code})
    assert body["success"] is True
    await run(client, user, "write_file", {"path": "repo/README.md", "content": "no secrets\n"})
    await run(client, user, "write_file", {"path": "other/notes.txt", "content": "Password\n"})

    body = await run(client, user, "read_file", {"path": "repo/src/auth.py"})
    assert body["result"]["content"] == code

    body = await run(client, user, "list_files", {"path": "repo"})
    paths = {f["path"] for f in body["result"]["files"]}
    assert {"repo/src/auth.py", "repo/README.md", "repo/src"} <= paths

    body = await run(client, user, "search_code", {"query": "password", "repository": "repo"})
    files = body["result"]["files"]
    assert [f["path"] for f in files] == ["repo/src/auth.py"]
    assert files[0]["matches"] == [
        {"line": 4, "content": "    password = input('Password: ')"},
        {"line": 5, "content": "    return password"},
    ]
    # regular expressions work, and invalid ones are searched as text
    body = await run(client, user, "search_code", {"query": r"def \w+\(\)"})
    assert body["result"]["files"][0]["matches"][0]["line"] == 3
    body = await run(client, user, "search_code", {"query": "input('", "case_sensitive": True})
    assert body["result"]["total_matches"] == 1
    # uploaded files are visible to the tools
    await client.post("/api/workspace/files", headers=user.headers, data={"path": "up.txt"},
                      files={"file": ("up.txt", b"uploaded line\n")})
    body = await run(client, user, "search_code", {"query": "uploaded"})
    assert body["result"]["files"][0]["path"] == "up.txt"


@pytest.mark.parametrize("tool,params", [
    ("read_file", {"path": "../../../etc/passwd"}),
    ("read_file", {"path": "/etc/passwd"}),
    ("read_file", {"path": "repo/../../x"}),
    ("write_file", {"path": "../evil.txt", "content": "x"}),
    ("write_file", {"path": "/tmp/evil.txt", "content": "x"}),
    ("list_files", {"path": ".."}),
    ("search_code", {"query": "root", "repository": "/etc"}),
    ("search_code", {"query": "root", "repository": "../.."}),
])
async def test_paths_leaving_the_workspace_are_refused(client, user, tool, params, data_dir):
    body = await run(client, user, tool, params)
    assert body["success"] is False
    assert "workspace" in body["error"] or "not allowed" in body["error"]
    assert not (data_dir / "workspaces" / "evil.txt").exists()


async def test_symlinks_leaving_the_workspace_are_refused(client, user, data_dir, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("password=hunter2\n")
    await run(client, user, "write_file", {"path": "inside.txt", "content": "password=ok\n"})
    root = data_dir / "workspaces" / str(user.id)
    (root / "escape_dir").symlink_to(outside, target_is_directory=True)
    (root / "escape_file.txt").symlink_to(outside / "secret.txt")

    body = await run(client, user, "read_file", {"path": "escape_file.txt"})
    assert body["success"] is False
    body = await run(client, user, "read_file", {"path": "escape_dir/secret.txt"})
    assert body["success"] is False
    body = await run(client, user, "write_file", {"path": "escape_dir/new.txt", "content": "x"})
    assert body["success"] is False
    assert not (outside / "new.txt").exists()
    body = await run(client, user, "search_code", {"query": "hunter2"})
    assert body["result"]["files"] == []
    body = await run(client, user, "list_files", {})
    assert not any("escape" in f["path"] for f in body["result"]["files"])


async def test_another_users_files_are_invisible_to_the_tools(client, user, other_user):
    await run(client, user, "write_file", {"path": "mine/diary.txt", "content": "dear diary\n"})
    body = await run(client, other_user, "read_file", {"path": "mine/diary.txt"})
    assert body["success"] is False
    body = await run(client, other_user, "read_file",
                     {"path": f"../{user.id}/mine/diary.txt"})
    assert body["success"] is False
    body = await run(client, other_user, "search_code", {"query": "diary"})
    assert body["result"]["files"] == []
    body = await run(client, other_user, "list_files", {})
    assert body["result"]["files"] == [] or all(
        "diary" not in f["path"] for f in body["result"]["files"])


async def test_agent_calls_carry_the_users_identity(client, user, other_user):
    """Through the hub interface (as the agent uses it) confinement holds the same way."""
    hub = get_hub()
    result = await hub.execute("workspace", "write_file",
                               {"path": "agent.txt", "content": "from the agent"},
                               user_id=user.id)
    assert result.success
    mine = await hub.execute("workspace", "read_file", {"path": "agent.txt"}, user_id=user.id)
    assert mine.result["content"] == "from the agent"
    theirs = await hub.execute("workspace", "read_file", {"path": "agent.txt"},
                               user_id=other_user.id)
    assert theirs.success is False


async def test_workspace_tool_parameters_are_validated(client, user):
    resp = await client.post("/api/mcp/execute", headers=user.headers, json={
        "client_name": "workspace", "tool_name": "write_file", "parameters": {"path": 3}})
    assert resp.status_code == 400
    errors = resp.json()["details"]["validation_errors"]
    assert any("'content' is a required property" in e for e in errors)
    assert any("parameters.path" in e for e in errors)
