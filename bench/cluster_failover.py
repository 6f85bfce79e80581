"""Failover under load: N tasks of three 2-second model calls, started at once by 34 users,
on two workers sharing one PostgreSQL database, one worker SIGKILLed halfway.

Topology: one `crazy-gary serve` (the API; by default API-only, TASK_WORKER_CONCURRENCY=0,
or running up to `--api-concurrency` tasks itself) and two `crazy-gary worker` processes
with executor ids of their own, all on one fresh database. The model is the stand-in in a
subprocess; every task has a script of its own (`[[script:cf-<n>]]`, replies keyed by
turn: a request sent again gets the reply it was sent for), so the stand-in's request log
tells how often each (task, turn) was asked. When half the tasks have completed (or after
`--kill-at` seconds), the worker holding more unfinished tasks is stopped (SIGSTOP), its
checkpointed model calls are read, and it is SIGKILLed.

Measured: the wall time of all N against one task alone; after the kill, when a survivor
claimed the dead worker, and when its tasks resumed (their workflows running on another
executor); whether every task completed; and "nothing repeated": a model call sent twice
for one (task, turn) is a failure unless that call was in flight at the kill (its task was
on the killed worker and the call had no recorded step), which is sent again by design.

    .venv/bin/python bench/cluster_failover.py --tasks 100 \
        --database-url postgresql://postgres@127.0.0.1:5432/bench

The database URL names a server and a base name: `<name>_cluster` (and its engine database)
is dropped and made afresh. Three processes share PostgreSQL's connections, so the bench
lowers each process's pools (DATABASE_POOL_SIZE, DATABASE_MAX_OVERFLOW,
SYSTEM_DATABASE_POOL_SIZE; docs/scaling.md). Results are appended to
bench/results/cluster_failover.md with machine, date and load.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import sqlalchemy as sa

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO)]

from bench.many_agents import gather_limited, run_all, running_counter, script  # noqa: E402
from bench.results_log import append_report  # noqa: E402
from bench.standin import start_standin  # noqa: E402

MODEL_SECONDS = 2.0
# Per process: 5 + 3 application connections, up to 5 direct reads, up to 5 + 2 for step
# transactions, heartbeats and telemetry, 8 for the engine plus its listener: about 29, so
# three processes stay under 100.
POOLS = {"DATABASE_POOL_SIZE": "5", "DATABASE_MAX_OVERFLOW": "3",
         "SYSTEM_DATABASE_POOL_SIZE": "8"}


@dataclass
class Kill:
    """What the killed worker held when it was stopped, and when its work moved on."""

    executor: str = ""
    at: float = 0.0  # seconds after the batch started
    held: dict[str, tuple[int, int]] = field(default_factory=dict)  # id -> checkpointed calls
    claimed_after: float | None = None
    first_resumed_after: float | None = None
    all_resumed_after: float | None = None


def sql_engine(url: str) -> sa.Engine:
    return sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"), pool_size=2)


def completed_count(engine: sa.Engine, ids: list[str]) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(sa.text(
            "SELECT count(*) FROM tasks WHERE status = 'completed' AND id = ANY(:ids)"),
            {"ids": ids}))


def moved_on(sys_engine: sa.Engine, ids: list[str], dead: str) -> int:
    """How many of these workflows now run (or ran) on another executor."""
    with sys_engine.connect() as conn:
        return int(conn.scalar(sa.text(
            "SELECT count(*) FROM dbos.workflow_status WHERE workflow_uuid = ANY(:ids) "
            "AND executor_id <> :dead AND status <> 'ENQUEUED'"), {"ids": ids, "dead": dead}))


def connections(engine: sa.Engine) -> int:
    """Server connections to the cluster's two databases (its own and the engine's)."""
    with engine.connect() as conn:
        return int(conn.scalar(sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname IN (:db, :sys)"),
            {"db": engine.url.database, "sys": f"{engine.url.database}_dbos_sys"}))


async def watch_connections(engine: sa.Engine, peak: list[int], stop: asyncio.Event) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], await asyncio.to_thread(connections, engine))
        await asyncio.sleep(0.5)


def claimed_by(engine: sa.Engine, executor: str) -> str | None:
    with engine.connect() as conn:
        return conn.scalar(sa.text("SELECT claimed_by FROM executors WHERE executor_id = :e"),
                           {"e": executor})


async def kill_halfway(cluster: dict, ids: list[str], engines, args, started: float) -> Kill:
    """SIGKILL the worker holding more unfinished tasks once half are completed (or at
    `--kill-at` s), then follow its takeover until all its tasks run elsewhere."""
    from tests.tasks.test_workers import running_steps

    engine, sys_engine = engines
    kill = Kill()
    while True:
        elapsed = time.perf_counter() - started
        if (args.kill_at and elapsed >= args.kill_at) or (
                not args.kill_at
                and await asyncio.to_thread(completed_count, engine, ids) >= len(ids) / 2):
            break
        await asyncio.sleep(0.1)
    held = {name: running_steps(sys_engine, name) for name in ("cf-worker-a", "cf-worker-b")}
    kill.executor = max(held, key=lambda name: len(held[name]))
    victim = cluster[kill.executor]
    victim.proc.send_signal(signal.SIGSTOP)  # frozen: its checkpoints are final
    kill.held = running_steps(sys_engine, kill.executor)
    victim.kill()
    kill.at = time.perf_counter() - started
    held_ids = list(kill.held)
    deadline = time.perf_counter() + args.timeout
    while kill.all_resumed_after is None and time.perf_counter() < deadline:
        since = time.perf_counter() - started - kill.at
        if kill.claimed_after is None and claimed_by(engine, kill.executor):
            kill.claimed_after = since
        moved = moved_on(sys_engine, held_ids, kill.executor) if held_ids else 0
        if moved and kill.first_resumed_after is None:
            kill.first_resumed_after = since
        if moved == len(held_ids) and kill.claimed_after is not None:
            kill.all_resumed_after = since
        await asyncio.sleep(0.2)
    return kill


def repeats(requests: list[dict], tags: dict[str, str], kill: Kill) -> tuple[list, list]:
    """(task, turn) model calls sent more than once: (completed calls repeated, in-flight
    calls sent again). A call of turn t of a task the killed worker held with m recorded
    model calls was in flight at the kill when t == m."""
    from tests.fakes.openai_standin import find_tag, turn_of

    asked = Counter((find_tag(r["messages"]), turn_of(r["messages"])) for r in requests)
    task_of = {tag: task_id for task_id, tag in tags.items()}
    repeated, in_flight = [], []
    for (tag, turn), n in asked.items():
        if n < 2 or tag not in task_of:
            continue
        held = kill.held.get(task_of[tag])
        (in_flight if held is not None and turn == held[0] else repeated).append(
            (task_of[tag], turn, n))
    return repeated, in_flight


def final_rows(engine: sa.Engine, ids: list[str]) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.text(
            "SELECT id, status, executor_id, error, started_at, completed_at FROM tasks "
            "WHERE id = ANY(:ids)"), {"ids": ids}).mappings()]


def start_cluster(env: dict, args) -> dict:
    from tests.support import ProcessServer
    from tests.tasks.test_workers import wait_log

    api = ProcessServer({**env, "CRAZY_GARY_EXECUTOR_ID": "cf-api",
                         "TASK_WORKER_CONCURRENCY": str(args.api_concurrency)})
    workers = {name: ProcessServer({**env, "CRAZY_GARY_EXECUTOR_ID": name}, command="worker")
               for name in ("cf-worker-a", "cf-worker-b")}
    cluster = {"cf-api": api, **workers}
    try:
        api.start(timeout=120)
        for name, worker in workers.items():
            worker.start()
            wait_log(worker, f"worker {name} running", timeout=120)
    except BaseException:
        stop_cluster(cluster)
        raise
    return cluster


def stop_cluster(cluster: dict) -> None:
    for proc in cluster.values():
        proc.stop()


async def create_scripted(client, users, prefix: str, count: int, standin,
                          seconds: float) -> list[tuple[object, str, str]]:
    """`count` tasks, each with a script of its own (`<prefix>-<n>`): (user, id, tag)."""
    async def create(i: int):
        tag = f"{prefix}-{i}"
        await asyncio.to_thread(standin.script, tag, script(seconds), "turn")
        resp = await client.post("/api/tasks", headers=users[i % len(users)].headers, json={
            "title": tag, "description": f"Work. [[script:{tag}]]"})
        assert resp.status_code == 201, resp.text
        return users[i % len(users)], resp.json()["task_id"], tag

    return await gather_limited([create(i) for i in range(count)], 16)


async def main_async(args) -> list[str]:
    from tests.support import register
    from tests.tasks.helpers import fresh_database

    from crazy_gary.config import Settings, to_sync_url

    data_dir = tempfile.mkdtemp(prefix="cg-cluster-")
    per_user = math.ceil(args.tasks / args.users)
    database_url = fresh_database(args.database_url, "cluster")
    env = {"CRAZY_GARY_DATA_DIR": data_dir, "DATABASE_URL": database_url,
           "REDIS_URL": args.redis_url or "",
           "RATE_LIMITS_ENABLED": "false", "HUGGINGFACE_API_KEY": "bench", "MCP_CONFIG": "",
           "TASK_PER_USER_CONCURRENCY": str(per_user),
           "EXECUTOR_DEAD_AFTER_SECONDS": str(args.dead_after), **POOLS}
    standin_proc, standin = start_standin()  # once, before measuring
    env.update(MODEL_120B_BASE_URL=standin.url, MODEL_20B_BASE_URL=standin.url)
    engine = sql_engine(database_url)
    sys_engine = sql_engine(to_sync_url(
        Settings(DATABASE_URL=database_url).dbos_system_database_url))
    try:
        cluster = start_cluster(env, args)
    except BaseException:
        standin_proc.terminate()
        raise
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100, keepalive_expiry=2)
    try:
        async with httpx.AsyncClient(base_url=cluster["cf-api"].url, timeout=120,
                                     limits=limits) as client:
            users = await gather_limited([register(client) for _ in range(args.users)], 4)
            running = running_counter(database_url)
            single = await create_scripted(client, users[:1], "cf-one", 1, standin,
                                           args.model_seconds)
            one_elapsed = await run_all(client, [(u, t) for u, t, _ in single],
                                        running=running)
            made = await create_scripted(client, users, "cf", args.tasks, standin,
                                         args.model_seconds)
            tags = {task_id: tag for _, task_id, tag in made}
            ids = list(tags)
            load_before = os.getloadavg()[0]
            peak, stop = [0], asyncio.Event()
            watcher = asyncio.create_task(watch_connections(engine, peak, stop))
            started = time.perf_counter()
            killer = asyncio.create_task(
                kill_halfway(cluster, ids, (engine, sys_engine), args, started))
            batch = asyncio.create_task(
                run_all(client, [(u, t) for u, t, _ in made], running=running))
            done, _ = await asyncio.wait({batch}, timeout=args.timeout)
            elapsed = batch.result() if done else float("nan")
            if not done:
                batch.cancel()
            kill = await killer
            stop.set()
            await watcher
            requests = standin.requests()
    finally:
        stop_cluster(cluster)
        standin_proc.terminate()
        standin_proc.wait(10)
    rows = await asyncio.to_thread(final_rows, engine, ids)
    engine.dispose()
    sys_engine.dispose()
    return report(args, per_user, one_elapsed, elapsed, load_before, kill, rows,
                  repeats(requests, tags, kill), cluster) + [
        f"  - peak PostgreSQL connections to the cluster's databases {peak[0]}"]


def report(args, per_user, one_elapsed, elapsed, load_before, kill: Kill, rows, found,
           cluster) -> list[str]:
    repeated, in_flight = found
    statuses = Counter(r["status"] for r in rows)
    finals = Counter(r["executor_id"] for r in rows)
    durations = [(r["completed_at"] - r["started_at"]).total_seconds() for r in rows
                 if r["status"] == "completed"]
    errors = {name: [line for line in proc.log().splitlines()
                     if "ERROR" in line or "Traceback" in line]
              for name, proc in cluster.items()}
    first_errors = [line for found_lines in errors.values() for line in found_lines][:3]
    owing_a_call = sum(1 for models, _ in kill.held.values() if models < 3)
    after = {key: f"{value:.1f} s" if value is not None else "never"
             for key, value in (("claimed", kill.claimed_after),
                                ("first", kill.first_resumed_after),
                                ("all", kill.all_resumed_after))}
    lines = [
        f"- PostgreSQL, {args.tasks} tasks x 3 model calls of {args.model_seconds:g} s from "
        f"{args.users} users (per-user cap {per_user}); one `serve` "
        + ("(API-only, TASK_WORKER_CONCURRENCY 0)" if not args.api_concurrency else
           f"(TASK_WORKER_CONCURRENCY {args.api_concurrency}: it runs up to "
           f"{max(per_user, args.api_concurrency)} tasks, the per-user cap being the floor)")
        + f" and two workers; EXECUTOR_DEAD_AFTER_SECONDS "
        f"{args.dead_after:g}; pools {POOLS['DATABASE_POOL_SIZE']}+"
        f"{POOLS['DATABASE_MAX_OVERFLOW']} app, {POOLS['SYSTEM_DATABASE_POOL_SIZE']} engine:",
        f"  - one task alone {one_elapsed:.2f} s; all {args.tasks}: {elapsed:.2f} s = "
        f"{elapsed / one_elapsed:.2f}x one task; task running time p50 "
        f"{statistics.median(durations) if durations else float('nan'):.2f} s, max "
        f"{max(durations) if durations else float('nan'):.2f} s",
        f"  - {kill.executor} SIGKILLed at {kill.at:.1f} s holding {len(kill.held)} unfinished "
        f"tasks ({owing_a_call} still owing a model call); claimed by a "
        f"survivor after {after['claimed']}, its first task resumed after {after['first']}, "
        f"all after {after['all']}",
        f"  - statuses {dict(statuses)}; completed on {dict(finals)}"
        + ("; **all completed**" if statuses["completed"] == args.tasks
           else f"; **{args.tasks - statuses['completed']} not completed**"),
        f"  - completed model calls sent twice: {len(repeated)}"
        + (" (nothing repeated)" if not repeated else " **(failure)**")
        + f"; calls in flight at the kill sent again: {len(in_flight)}",
        "  - ERROR lines in the logs: "
        + ", ".join(f"{name} {len(found_lines)}" for name, found_lines in errors.items()),
        f"  - load average at the start of the batch {load_before:.1f}",
    ]
    if repeated:
        lines.append(f"  - first repeated (task, turn, times): {repeated[:5]}")
    if first_errors:
        lines.append("  - first error lines: " + " | ".join(e[:200] for e in first_errors))
    failed = [r for r in rows if r["status"] != "completed"]
    if failed:
        lines.append("  - first failures: " + " | ".join(
            str(r["error"] or r["status"])[:200] for r in failed[:3]))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL"),
                        help="PostgreSQL URL; <name>_cluster beside it is wiped and used")
    parser.add_argument("--redis-url", default=os.environ.get("TEST_REDIS_URL"),
                        help="shared fan-out of the three processes (optional)")
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--users", type=int, default=34)
    parser.add_argument("--model-seconds", type=float, default=MODEL_SECONDS)
    parser.add_argument("--api-concurrency", type=int, default=0,
                        help="TASK_WORKER_CONCURRENCY of the serve process (0: API-only)")
    parser.add_argument("--dead-after", type=float, default=30.0,
                        help="EXECUTOR_DEAD_AFTER_SECONDS of every process")
    parser.add_argument("--kill-at", type=float, default=0.0,
                        help="kill after this many seconds (0: when half have completed)")
    parser.add_argument("--timeout", type=float, default=900.0,
                        help="give up waiting for the batch (and the takeover) after this")
    args = parser.parse_args()
    if not (args.database_url or "").startswith("postgresql"):
        parser.error("--database-url (or TEST_DATABASE_URL) must be a PostgreSQL URL")
    load = os.getloadavg()
    report_lines = "\n".join(asyncio.run(main_async(args)))
    append_report("cluster_failover.md", report_lines, load[0])


if __name__ == "__main__":
    main()
