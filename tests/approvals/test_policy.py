"""Policy precedence and parsing; a bad `"approval"` in mcp.json is a config error."""

from __future__ import annotations

import json

import pytest

from crazy_gary.config import Settings
from crazy_gary.kit.tool_policy import PolicyError, decide, server_rules
from crazy_gary.toolhub import ToolHub
from crazy_gary.toolhub.servers import McpConfigError, parse_server


def test_first_matching_rule_wins_and_bare_globs_are_the_servers():
    rules = server_rules("git", {"git_push": "deny", "git_*": "ask", "git.git_status": "allow"})
    assert rules == (("git.git_push", "deny"), ("git.git_*", "ask"),
                     ("git.git_status", "allow"))
    assert decide("git.git_push", server=rules, destructive=False,
                  server_default="allow") == "deny"
    # the first match wins: git_status is caught by git_* before its own rule
    assert decide("git.git_status", server=rules, destructive=False,
                  server_default="allow") == "ask"
    assert decide("git.other", server=rules, destructive=False, server_default="allow") == "allow"
    assert server_rules("git", "deny") == (("*", "deny"),)


@pytest.mark.parametrize(("server", "task_rules", "task_default", "expected"), [
    ((("*", "allow"),), (("time.*", "ask"),), None, "ask"),      # a task may tighten
    ((("*", "ask"),), (("time.*", "allow"),), None, "ask"),      # ...never loosen
    ((("*", "deny"),), (), "allow", "deny"),                     # deny anywhere wins
    ((("*", "allow"),), (("time.*", "deny"),), "ask", "deny"),
    ((), (), None, "allow"),                                     # TOOL_APPROVAL_DEFAULT
    ((), (), "ask", "ask"),                                      # the task's default
])
def test_precedence_deny_over_ask_over_allow(server, task_rules, task_default, expected):
    assert decide("time.now", server=server, destructive=False, server_default="allow",
                  task_rules=task_rules, task_default=task_default) == expected


def test_destructive_tools_default_to_ask_unless_a_rule_says_otherwise():
    assert decide("fs.rm", server=(), destructive=True, server_default="allow") == "ask"
    assert decide("fs.rm", server=(("fs.rm", "allow"),), destructive=True,
                  server_default="allow") == "allow"
    assert decide("fs.rm", server=(), destructive=True, server_default="deny") == "deny"


@pytest.mark.parametrize("approval", ["sometimes", {"a[b": "ask"}, {"x": "maybe"}, {}, 3,
                                      {"": "ask"}, {"a b": "deny"}])
def test_bad_approval_is_a_config_error(approval):
    with pytest.raises(McpConfigError):
        parse_server("s", {"command": "x", "approval": approval})
    with pytest.raises(PolicyError):
        server_rules("s", approval)


async def test_bad_approval_in_mcp_json_shows_in_status_and_starts_nothing(tmp_path):
    config = tmp_path / "mcp.json"
    config.write_text(json.dumps({"mcpServers": {
        "good": {"command": "true"},
        "bad": {"command": "true", "approval": {"write_*": "perhaps"}}}}))
    hub = ToolHub(Settings(CRAZY_GARY_DATA_DIR=str(tmp_path), MCP_CONFIG=str(config)))
    await hub.start()
    try:
        status = hub.status()
        assert "perhaps" in status["config_error"]
        assert status["status"] != "healthy"
        assert list(hub.connections) == []  # nothing half-applied
    finally:
        await hub.close()
