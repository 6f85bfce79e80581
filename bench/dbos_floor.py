"""The durable engine's own cost per step: a workflow of no-op steps (context for the
agent overhead figures). Prints one line per step kind.

    .venv/bin/python bench/dbos_floor.py [--database-url postgresql://.../db] [--steps 100]
        [--sqlite-journal default|wal]

Besides the wall time per step it prints the process's CPU time per step, which a loaded
machine inflates much less. On SQLite `--sqlite-journal wal` runs the system database the
way the service does (crazy_gary.durable: write-ahead log, synchronous=NORMAL); `default`
is DBOS's own engine (rollback journal, synchronous=FULL).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import sqlalchemy as sa  # noqa: E402
from dbos import DBOS, DBOSConfig  # noqa: E402

from crazy_gary.durable import sqlite_system_connection  # noqa: E402


@DBOS.step()
async def noop(i: int) -> int:
    return i


@DBOS.step(preemptible=True)
async def noop_preemptible(i: int) -> int:
    return i


@DBOS.workflow()
async def workflow(n: int, preemptible: bool) -> int:
    for i in range(n):
        await (noop_preemptible(i) if preemptible else noop(i))
    return n


async def measure(steps: int, label: str) -> list[str]:
    DBOS.launch()
    lines = []
    for preemptible in (False, True):
        await workflow(5, preemptible)
        started, cpu = time.perf_counter(), time.process_time()
        await workflow(steps, preemptible)
        per_step = (time.perf_counter() - started) * 1000 / steps
        cpu_per_step = (time.process_time() - cpu) * 1000 / steps
        kind = "preemptible" if preemptible else "plain"
        lines.append(f"DBOS alone{label}, {kind} no-op step: {per_step:.2f} ms per step "
                     f"(CPU {cpu_per_step:.2f} ms)")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL URL of a scratch system database")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--sqlite-journal", choices=("default", "wal"), default="wal")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='cg-floor-')}/sys.db"
    config: DBOSConfig = {"name": "floor", "system_database_url": url, "log_level": "WARNING",
                          "run_admin_server": False,
                          "enable_otlp": False, "application_version": "1",
                          "executor_id": "floor"}
    engine, label = None, ""
    if not args.database_url:
        label = f" (SQLite, {'WAL' if args.sqlite_journal == 'wal' else 'DBOS default journal'})"
        if args.sqlite_journal == "wal":
            engine = sa.create_engine(url, connect_args={"timeout": 30})
            sa.event.listen(engine, "connect", sqlite_system_connection)
            config["system_database_engine"] = engine
    DBOS(config=config)
    try:
        for line in asyncio.run(measure(args.steps, label)):
            print(line)
    finally:
        DBOS.destroy()
        if engine is not None:
            engine.dispose()


if __name__ == "__main__":
    main()
