"""The durable engine's own cost per step: a workflow of no-op steps (context for the
agent overhead figures). Prints one line per step kind.

    .venv/bin/python bench/dbos_floor.py [--database-url postgresql://.../db] [--steps 100]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time

from dbos import DBOS


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


async def measure(steps: int) -> list[str]:
    DBOS.launch()
    lines = []
    for preemptible in (False, True):
        await workflow(5, preemptible)
        started = time.perf_counter()
        await workflow(steps, preemptible)
        per_step = (time.perf_counter() - started) * 1000 / steps
        kind = "preemptible" if preemptible else "plain"
        lines.append(f"DBOS alone, {kind} no-op step: {per_step:.2f} ms per step")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL URL of a scratch system database")
    parser.add_argument("--steps", type=int, default=100)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='cg-floor-')}/sys.db"
    DBOS(config={"name": "floor", "system_database_url": url, "run_admin_server": False,
                 "log_level": "WARNING", "enable_otlp": False, "application_version": "1",
                 "executor_id": "floor"})
    try:
        for line in asyncio.run(measure(args.steps)):
            print(line)
    finally:
        DBOS.destroy()


if __name__ == "__main__":
    main()
