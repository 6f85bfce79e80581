"""`crazy-gary usage` and `crazy-gary quota` against the shared server."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Cli
from tests.tasks.helpers import marker, tag


@pytest.mark.timeout(240)  # five command processes: slow on a loaded machine
async def test_usage_and_quota_commands(server, tmp_path, register_user, admin, client,
                                        model_standin):
    member = await register_user()
    script = tag("cliusage")
    model_standin.script(script, [
        {"content": "Hi.", "usage": {"prompt_tokens": 25, "completion_tokens": 5}}])
    resp = await client.post("/api/chat", headers=member.headers,
                             json={"message": f"hello {marker(script)}"})
    assert resp.status_code == 200, resp.text

    # signed in by token (CRAZY_GARY_TOKEN): each command is a process of its own
    mine = Cli(server.url, tmp_path / "member")
    mine.env["CRAZY_GARY_TOKEN"] = member.token
    done = mine("usage", "--group-by", "model", "--json")
    assert done.code == 0, done.err
    report = done.lines()[0]
    assert report["totals"]["total_tokens"] == 30 and report["groups"][0]["key"] == "gpt-oss-120b"
    table = mine("usage")
    assert table.code == 0 and "total" in table.out and "25" in table.out

    boss = Cli(server.url, tmp_path / "admin")
    boss.env["CRAZY_GARY_TOKEN"] = admin.token
    done = boss("quota", "--user-id", str(member.id), "--set-tokens", "30", "--json")
    assert done.code == 0, done.err
    assert done.lines()[0]["monthly_tokens"] == 30
    shown = mine("quota")
    assert shown.code == 0 and "tokens 30 of 30" in shown.out and "monthly_tokens" in shown.out
    cleared = boss("quota", "--user-id", str(member.id), "--set-tokens", "none", "--json")
    assert cleared.lines()[0]["monthly_tokens"] is None
