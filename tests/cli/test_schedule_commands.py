"""`crazy-gary schedules …`, run as subprocesses against the served instance."""

from __future__ import annotations

import json

from tests.tasks.helpers import marker, tag


async def test_schedules_add_ls_run_runs_disable_rm(signed_in_cli):
    cli = signed_in_cli
    added = cli("schedules", "add", "Morning report", "0 9 * * MON-FRI",
                f"Write the report {marker(tag('cli-sched'))}", "--timezone", "Europe/Paris",
                "--overlap", "queue", "--json")
    assert added.code == 0, added.err
    schedule = json.loads(added.out)
    assert (schedule["timezone"], schedule["overlap"]) == ("Europe/Paris", "queue")
    listed = cli("schedules", "ls")
    assert listed.code == 0 and "Morning report" in listed.out and "0 9 * * MON-FRI" in listed.out
    started = cli("schedules", "run", schedule["id"], "--json")
    assert started.code == 0, started.err
    task_id = json.loads(started.out)["task_id"]
    (run,) = json.loads(cli("schedules", "runs", schedule["id"], "--json").out)
    assert (run["task_id"], run["trigger"]) == (task_id, "manual")
    disabled = cli("schedules", "disable", schedule["id"], "--json")
    assert disabled.code == 0 and json.loads(disabled.out)["enabled"] is False
    bad = cli("schedules", "add", "Bad", "0 9 * *", "x")
    assert bad.code == 1 and "Traceback" not in bad.err + bad.out
    assert "5 fields" in bad.err + bad.out
    assert cli("schedules", "rm", schedule["id"]).code == 0
    gone = cli("schedules", "rm", schedule["id"])
    assert gone.code == 1 and "SCHEDULE_NOT_FOUND" in gone.err + gone.out
