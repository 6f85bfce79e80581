"""`crazy-gary keys create|list|delete`, and a key used as CRAZY_GARY_TOKEN."""

from __future__ import annotations

import json


async def test_keys_create_use_list_delete(signed_in_cli):
    cli = signed_in_cli
    created = cli("keys", "create", "nightly", "--scope", "tasks:read,tasks:write",
                  "--expires-in-days", "7", "--json")
    assert created.code == 0, created.err
    key = json.loads(created.out)
    assert key["key"].startswith("cg_") and key["scopes"] == ["tasks:read", "tasks:write"]
    as_key = {"CRAZY_GARY_TOKEN": key["key"], "XDG_CONFIG_HOME": str(cli.home / "none")}
    scripted = cli("tasks", "ls", "--json", env=as_key)
    assert scripted.code == 0, scripted.err
    refused = cli("keys", "list", env=as_key)  # keys cannot manage keys
    assert refused.code != 0 and "INSUFFICIENT_PERMISSIONS" in refused.err + refused.out
    listed = json.loads(cli("keys", "list", "--json").out)
    assert [k["id"] for k in listed] == [key["id"]] and "key" not in listed[0]
    assert cli("keys", "delete", key["id"]).code == 0
    assert cli("tasks", "ls", "--json", env=as_key).code != 0
    assert json.loads(cli("keys", "list", "--json").out) == []
