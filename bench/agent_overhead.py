"""Agent engine overhead per step, and tasks per second for one worker.

The stand-in model answers at once, so what is measured is what the engine adds:
DBOS checkpoints, task/step records, events, tool dispatch through the hub. Runs the
real service in this process (one worker) against SQLite, or PostgreSQL with
`--database-url postgresql://...` (the database is wiped).

    .venv/bin/python bench/agent_overhead.py [--database-url URL] [--tasks 20]

Results are appended to bench/results/agent_overhead.md with machine and date.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx
import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO)]

from bench.results_log import append_report  # noqa: E402
from bench.standin import start_standin  # noqa: E402


def script_for(steps: int) -> list[dict]:
    """`steps` model turns: a plan, steps-1 tool turns (list_files), a final answer. The path
    alternates between two spellings of the workspace root, so no call repeats the one before
    (LOOP_REPEAT_LIMIT identical calls in a row would stop for approval)."""
    replies: list[dict] = [{"content": "1. look\n2. answer"}]
    for i in range(steps - 1):
        replies.append({"tool_calls": [{"name": "workspace__list_files",
                                        "arguments": {"path": "./" if i % 2 else "."}}]})
    replies.append({"content": "done"})
    return replies


async def run_batch(client, headers, standin, steps: int, count: int, prefix: str,
                    poll: float = 0.05):
    ids = []
    for i in range(count):
        tag = f"{prefix}-{steps}-{i}"
        standin.script(tag, script_for(steps))
        resp = await client.post("/api/tasks", headers=headers, json={
            "title": tag, "description": f"[[script:{tag}]]", "max_steps": steps + 5})
        ids.append(resp.json()["task_id"])
    started = time.perf_counter()
    for task_id in ids:
        await client.post(f"/api/tasks/{task_id}/start", headers=headers)
    pending = set(ids)
    details = {}
    while pending:
        for task_id in list(pending):
            body = (await client.get(f"/api/tasks/{task_id}", headers=headers)).json()
            if body["status"] in ("completed", "failed", "stopped"):
                assert body["status"] == "completed", body
                details[task_id] = body
                pending.discard(task_id)
        await asyncio.sleep(poll)
    elapsed = time.perf_counter() - started
    return elapsed, [details[i] for i in ids]


def overhead_per_step(task: dict) -> float:
    """(task wall time - time spent inside model and tool calls) / agent steps, in ms."""
    start = datetime.fromisoformat(task["started_at"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(task["completed_at"].replace("Z", "+00:00"))
    steps = task["result"]["steps"]
    outside = sum(s["latency_ms"] for s in steps)
    return ((end - start).total_seconds() * 1000 - outside) / len(steps)


async def main_async(args) -> str:
    from tests.support import ProcessServer, register

    data_dir = tempfile.mkdtemp(prefix="cg-bench-")
    env = {"CRAZY_GARY_DATA_DIR": data_dir, "RATE_LIMITS_ENABLED": "false",
           "HUGGINGFACE_API_KEY": "bench", "CRAZY_GARY_EXECUTOR_ID": "bench",
           "TASK_PER_USER_CONCURRENCY": str(args.concurrency),
           "TASK_WORKER_CONCURRENCY": str(args.concurrency), "MCP_CONFIG": ""}
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
        from tests.tasks.helpers import fresh_database
        base, _, name = args.database_url.rpartition("/")
        env["DATABASE_URL"] = fresh_database(f"{base}/{name}", "bench")
    standin_proc, standin = start_standin()  # once, before measuring
    env.update(MODEL_120B_BASE_URL=standin.url, MODEL_20B_BASE_URL=standin.url)
    try:
        server = ProcessServer(env).start()
    except BaseException:
        standin_proc.terminate()
        raise
    lines = []
    backend = "PostgreSQL" if args.database_url else "SQLite"
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            user = await register(client)
            await run_batch(client, user.headers, standin, 2, 3, "warm")
            # sequential single tasks: per-step overhead without queueing contention
            per_step = []
            proc = psutil.Process(server.proc.pid)
            cpu_before, step_count = sum(proc.cpu_times()[:2]), 0
            for steps in (1, 10):
                for i in range(args.sequential):
                    _, tasks = await run_batch(client, user.headers, standin, steps, 1,
                                               f"seq{i}", poll=0.25)
                    per_step.append(overhead_per_step(tasks[0]))
                    step_count += len(tasks[0]["result"]["steps"])
            cpu_per_step = (sum(proc.cpu_times()[:2]) - cpu_before) * 1000 / step_count
            per_step.sort()
            p90 = per_step[min(len(per_step) - 1, math.ceil(len(per_step) * 0.9) - 1)]
            lines.append(f"- {backend}: engine overhead per agent step (sequential tasks): "
                         f"median {statistics.median(per_step):.1f} ms, "
                         f"p90 {p90:.1f} ms "
                         f"over {len(per_step)} tasks; service CPU {cpu_per_step:.1f} ms per "
                         f"step (includes the model/tool client side and status polling)")
            for steps in (1, 10):
                elapsed, tasks = await run_batch(client, user.headers, standin, steps,
                                                 args.tasks, "tp")
                lines.append(f"- {backend}: {args.tasks} tasks of {steps} step(s), one worker "
                             f"(concurrency {args.concurrency}): {args.tasks / elapsed:.1f} "
                             f"tasks/s ({elapsed:.2f} s)")
    finally:
        server.stop()
        standin_proc.terminate()
        standin_proc.wait(10)
    floor_args = [sys.executable, str(REPO / "bench" / "dbos_floor.py")]
    if args.database_url:
        floor_args += ["--database-url", args.database_url.rsplit("/", 1)[0] + "/"
                       + args.database_url.rsplit("/", 1)[1].split("?")[0] + "_bench_floor"]
    floor = subprocess.run(floor_args, capture_output=True, text=True, timeout=600)  # noqa: ASYNC221
    lines += [f"- {backend}: {line}" for line in floor.stdout.splitlines() if line]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--sequential", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    load = os.getloadavg()
    report = asyncio.run(main_async(args))
    append_report("agent_overhead.md", report, load[0])


if __name__ == "__main__":
    main()
