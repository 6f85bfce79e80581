"""Many I/O-bound agents on one process: N tasks of three 2-second model calls, started at
once, against the time of one such task.

Each task is a plan call, a tool turn (workspace list_files) and a final answer, every
model reply held 2 s by the stand-in (a subprocess, so its own CPU is apart). One
`crazy-gary serve` process (API and durable engine together, the embedded deployment)
runs everything. Measured: the wall time of all N against one task alone, the process's
memory growth and thread count, failed tasks and logged errors, and the latency of
`GET /api/tasks/{id}` polled meanwhile.

    .venv/bin/python bench/many_agents.py --tasks 100 --users 34
    .venv/bin/python bench/many_agents.py --tasks 1000 --users 34 \
        [--database-url postgresql://postgres@127.0.0.1:5432/bench_many]

With `--api-only` (PostgreSQL only) the layout is scaled out instead: one `serve` process
with TASK_WORKER_CONCURRENCY=0 answers the API and one `crazy-gary worker` runs every task;
memory, threads and CPU are then the worker's, the latency probe goes to the API process.

Users are spread round-robin; the per-user cap (TASK_PER_USER_CONCURRENCY) is set to
ceil(tasks / users) so every task may run at once and only the process limit is tested.
Results are appended to bench/results/many_agents.md with machine, date and load.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx
import psutil
import sqlalchemy as sa

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO)]

from bench.results_log import append_report  # noqa: E402
from bench.standin import start_standin  # noqa: E402

MODEL_SECONDS = 2.0


def script(delay: float) -> list[dict]:
    """Three model calls by turn: a plan, one tool turn, the answer; each held `delay` s."""
    return [{"content": "1. look\n2. answer", "delay": delay},
            {"tool_calls": [{"name": "workspace__list_files", "arguments": {"path": "."}}],
             "delay": delay},
            {"content": "done", "delay": delay}]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(len(ordered) * q) - 1))]


def seconds_between(task: dict) -> float:
    start = datetime.fromisoformat(task["started_at"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(task["completed_at"].replace("Z", "+00:00"))
    return (end - start).total_seconds()


async def gather_limited(coros, limit: int = 32):
    gate = asyncio.Semaphore(limit)

    async def one(coro):
        async with gate:
            return await coro

    return await asyncio.gather(*(one(c) for c in coros))


async def create_tasks(client, users, tag: str, count: int) -> list[tuple[object, str]]:
    async def create(i: int):
        user = users[i % len(users)]
        resp = await client.post("/api/tasks", headers=user.headers, json={
            "title": f"{tag}-{i}", "description": f"Work. [[script:{tag}]]"})
        assert resp.status_code == 201, resp.text
        return user, resp.json()["task_id"]

    return await gather_limited([create(i) for i in range(count)])


async def run_all(client, tasks, *, running, marks: dict | None = None) -> float:
    """Start every task at once; the seconds until the last one ended. Completion is read
    from the database (`running()`), so polling for it costs the server nothing. `marks`
    gets the moment every start had been answered (`started`)."""
    started = time.perf_counter()
    starts = await gather_limited(
        [client.post(f"/api/tasks/{task_id}/start", headers=user.headers)
         for user, task_id in tasks], limit=64)
    if marks is not None:
        marks["started"] = time.perf_counter()
    refused = [f"{r.status_code} {r.text[:200]}" for r in starts if r.status_code != 200]
    if refused:
        print(f"{len(refused)} starts refused, first: {refused[0]}", flush=True)
    while await asyncio.to_thread(running):  # noqa: ASYNC110 - polls another process's database
        await asyncio.sleep(0.2)
    return time.perf_counter() - started


def running_counter(database_url: str):
    """How many tasks are still running, read straight from the service's database."""
    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))

    def running() -> int:
        with engine.connect() as conn:
            return int(conn.scalar(sa.text("SELECT count(*) FROM tasks WHERE status = 'running'")))

    return running


async def probe(client, tasks, latencies: list[tuple[float, float]],
                stop: asyncio.Event) -> None:
    """GET /api/tasks/{id} of random tasks, one at a time, while the batch runs; each as
    (when it was sent, milliseconds)."""
    while not stop.is_set():
        user, task_id = random.choice(tasks)
        began = time.perf_counter()
        resp = await client.get(f"/api/tasks/{task_id}", headers=user.headers)
        latencies.append((began, (time.perf_counter() - began) * 1000))
        assert resp.status_code == 200, resp.text
        await asyncio.sleep(0.02)


async def watch(proc: psutil.Process, peak: dict, stop: asyncio.Event) -> None:
    while not stop.is_set():
        peak["rss"] = max(peak["rss"], proc.memory_info().rss)
        peak["threads"] = max(peak["threads"], proc.num_threads())
        await asyncio.sleep(0.25)


def profiler(pid: int, path: str | None) -> subprocess.Popen | None:
    """py-spy sampling the server during the batch (collapsed stacks for a flame graph).
    Only the thread holding the GIL is sampled, so the stacks show where the CPU goes."""
    if not path:
        return None
    spy = Path(sys.executable).with_name("py-spy")
    return subprocess.Popen([str(spy), "record", "--pid", str(pid), "--format", "raw",
                             "--rate", "200", "--output", path, "--nonblocking", "--gil"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def main_async(args) -> list[str]:
    from tests.support import ProcessServer, register
    from tests.tasks.helpers import wait_log

    data_dir = tempfile.mkdtemp(prefix="cg-many-")
    per_user = math.ceil(args.tasks / args.users)
    env = {"CRAZY_GARY_DATA_DIR": data_dir, "RATE_LIMITS_ENABLED": "false",
           "HUGGINGFACE_API_KEY": "bench", "CRAZY_GARY_EXECUTOR_ID": "bench-many",
           "TASK_PER_USER_CONCURRENCY": str(per_user), "MCP_CONFIG": ""}
    if args.worker_concurrency:
        env["TASK_WORKER_CONCURRENCY"] = str(args.worker_concurrency)
    if args.database_url:
        from tests.tasks.helpers import fresh_database
        env["DATABASE_URL"] = fresh_database(args.database_url, "many")
    standin_proc, standin = start_standin()  # once, before measuring
    env.update(MODEL_120B_BASE_URL=standin.url, MODEL_20B_BASE_URL=standin.url)
    if args.api_only:
        env["REDIS_URL"] = args.redis_url or ""
    # Two processes must fit PostgreSQL's 100 connections (docs/scaling.md, "Connections"):
    # about 35 for the API process and 51 for the worker with these pools.
    server = ProcessServer({**env, "TASK_WORKER_CONCURRENCY": "0", "DATABASE_POOL_SIZE": "8",
                            "DATABASE_MAX_OVERFLOW": "4", "SYSTEM_DATABASE_POOL_SIZE": "4"}
                           if args.api_only else env)
    worker = ProcessServer({**env, "CRAZY_GARY_EXECUTOR_ID": "bench-many-worker",
                            "DATABASE_POOL_SIZE": "12", "DATABASE_MAX_OVERFLOW": "6",
                            "SYSTEM_DATABASE_POOL_SIZE": "12"},
                           command="worker") if args.api_only else None
    database_url = env.get("DATABASE_URL") or f"sqlite:///{data_dir}/crazy_gary.db"
    try:
        server.start()
        if worker is not None:
            worker.start()
            wait_log(worker, "worker bench-many-worker running")
    except BaseException:
        server.stop()
        standin_proc.terminate()
        raise
    backend = "PostgreSQL" if args.database_url else "SQLite"
    # below uvicorn's 5 s keep-alive, so no request goes out on a connection it is closing
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200, keepalive_expiry=2)
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=120, limits=limits) as client:
            users = await gather_limited([register(client) for _ in range(args.users)], 4)
            standin.script("one", script(args.model_seconds), by="turn")
            standin.script("many", script(args.model_seconds), by="turn")
            # one task alone: the time the batch is compared with
            single = await create_tasks(client, users[:1], "one", 1)
            running = running_counter(database_url)
            one_elapsed = await run_all(client, single, running=running)
            one = (await client.get(f"/api/tasks/{single[0][1]}",
                                    headers=users[0].headers)).json()
            assert one["status"] == "completed", one
            tasks = await create_tasks(client, users, "many", args.tasks)
            runner = worker or server  # the process that runs the tasks
            proc = psutil.Process(runner.proc.pid)
            rss_before = proc.memory_info().rss
            peak = {"rss": rss_before, "threads": proc.num_threads()}
            cpu_before = sum(proc.cpu_times()[:2])
            latencies: list[tuple[float, float]] = []
            marks: dict[str, float] = {}
            stop = asyncio.Event()
            side = [asyncio.create_task(probe(client, tasks, latencies, stop)),
                    asyncio.create_task(watch(proc, peak, stop))]
            load_before = os.getloadavg()[0]
            spy = profiler(runner.proc.pid, args.profile)
            elapsed = await run_all(client, tasks, running=running, marks=marks)
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(30)
            stop.set()
            await asyncio.gather(*side)
            cpu = sum(proc.cpu_times()[:2]) - cpu_before
            details = await gather_limited(
                [client.get(f"/api/tasks/{task_id}", headers=user.headers)
                 for user, task_id in tasks])
            bodies = [r.json() for r in details]
    finally:
        for process in (server, worker):
            if process is not None:
                process.stop()
        standin_proc.terminate()
        standin_proc.wait(10)
    logs = server.log() + (worker.log() if worker is not None else "")
    errors = [line for line in logs.splitlines() if "ERROR" in line or "Traceback" in line]
    failed = [b for b in bodies if b["status"] != "completed"]
    durations = [seconds_between(b) for b in bodies if b["status"] == "completed"]
    one_task = seconds_between(one)
    every = [ms for _, ms in latencies]
    after_starts = [ms for sent, ms in latencies if sent >= marks.get("started", 0.0)]
    ratio = elapsed / one_elapsed
    lines = [
        f"- {backend}, {args.tasks} tasks x 3 model calls of {args.model_seconds:g} s from "
        f"{args.users} users (per-user cap {per_user}), "
        + ("an API-only serve process and one worker" if args.api_only else "one process")
        + f" (TASK_WORKER_CONCURRENCY {args.worker_concurrency or 'default'}):",
        f"  - one task alone {one_elapsed:.2f} s (running {one_task:.2f} s); all {args.tasks}: "
        f"{elapsed:.2f} s = {ratio:.2f}x one task; task running time p50 "
        f"{statistics.median(durations) if durations else float('nan'):.2f} s, max "
        f"{max(durations) if durations else float('nan'):.2f} s",
        f"  - failed/unfinished {len(failed)}, ERROR lines in the server log {len(errors)}",
        f"  - {'the worker' if args.api_only else 'the process'}: RSS "
        f"{rss_before / 2**20:.0f} MB before, peak {peak['rss'] / 2**20:.0f} MB "
        f"(growth {(peak['rss'] - rss_before) / 2**20:.0f} MB); peak threads {peak['threads']}; "
        f"server CPU {cpu:.1f} s ({cpu * 1000 / (args.tasks * 4):.1f} ms per step)",
        f"  - GET /api/tasks/{{id}} meanwhile: {len(every)} requests, p50 "
        f"{statistics.median(every):.1f} ms, p99 {pct(every, 0.99):.1f} ms, max "
        f"{max(every):.1f} ms; the {len(after_starts)} sent once every start was answered: "
        f"p50 {statistics.median(after_starts):.1f} ms, p99 {pct(after_starts, 0.99):.1f} ms",
        f"  - load average at the start of the batch {load_before:.1f}",
    ]
    if errors:
        lines.append("  - first error lines: " + " | ".join(e[:200] for e in errors[:3]))
    if failed:
        lines.append("  - first failures: " + " | ".join(
            str(b.get("error") or b["status"])[:200] for b in failed[:3]))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL URL of a scratch database (wiped)")
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--users", type=int, default=34)
    parser.add_argument("--model-seconds", type=float, default=MODEL_SECONDS)
    parser.add_argument("--worker-concurrency", type=int, default=0,
                        help="TASK_WORKER_CONCURRENCY for the server (0: its default)")
    parser.add_argument("--api-only", action="store_true",
                        help="an API-only serve process plus one worker (needs --database-url)")
    parser.add_argument("--redis-url", default=os.environ.get("TEST_REDIS_URL"),
                        help="Redis for the two processes' event fan-out (with --api-only)")
    parser.add_argument("--profile", default=None,
                        help="write py-spy's collapsed stacks of the server to this file")
    args = parser.parse_args()
    if args.api_only and not args.database_url:
        parser.error("--api-only needs --database-url (two processes share PostgreSQL)")
    load = os.getloadavg()
    report = "\n".join(asyncio.run(main_async(args)))
    append_report("many_agents.md", report, load[0])


if __name__ == "__main__":
    main()
