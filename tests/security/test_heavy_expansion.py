"""Issue 13, high: `$steps.N.result` references multiplied memory from step to step."""

from __future__ import annotations

from tests.heavy.helpers import orchestrate, step_of, wait_done
from tests.security.tool_helpers import execute, listing, setting, upload


def _amplifying_workflow(repeat: int) -> list[dict]:
    return [
        {"step": 1, "tool": "wait", "parameters": {"seconds": 0, "value": "x" * 1000}},
        {"step": 2, "tool": "wait",
         "parameters": {"seconds": 0, "value": "$steps.1.result" * repeat}},
        {"step": 3, "tool": "wait",
         "parameters": {"seconds": 0, "value": "$steps.2.result" * repeat}},
    ]


async def test_reference_amplification_is_refused_with_a_clear_error(client, register_user):
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
    # The heavy tools read get_settings() (this process runs the server).
    with setting(get_settings(), "heavy_max_parameters_bytes", 100 * 1024):
        body = await execute(client, user, "report_generator",
                             {"format": "json", "findings": findings, "output": "r.json"})
    assert body["success"] is False and "limit is 102400 bytes" in body["error"], body
    assert await listing(client, user) == {}
    body = await execute(client, user, "report_generator",
                         {"format": "json", "findings": findings[:10], "output": "r.json"})
    assert body["success"] is True, body
