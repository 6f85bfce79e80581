"""One agent-step-sized transaction (an UPDATE, two INSERTs and a SELECT) through the two
paths the service has to its database, on SQLite:

- the async engine (aiosqlite under SQLAlchemy's AsyncSession), what requests use;
- the blocking engine in one worker-thread hop (`db.thread_transaction`), what the agent
  steps use; once untraced and once inside a recording span, where every statement
  opens a `db.*` span as it does inside a task.

    .venv/bin/python bench/db_paths.py [--transactions 500]

Results are appended to bench/results/db_paths.md with machine and date.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, update
from sqlalchemy.orm import Session

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO)]

from bench.results_log import append_report  # noqa: E402
from crazy_gary.db import Database, thread_transaction  # noqa: E402

METADATA = MetaData()
ROWS = Table("bench_rows", METADATA, Column("id", Integer, primary_key=True),
             Column("label", String), Column("count", Integer))
WARM_UP = 50


def step_statements():
    return (update(ROWS).where(ROWS.c.id == 1).values(count=ROWS.c.count + 1),
            insert(ROWS).values(label="step", count=1),
            select(ROWS.c.count).where(ROWS.c.id == 1),
            insert(ROWS).values(label="event", count=2))


async def timed(label: str, transaction: Callable[[], Awaitable[None]], count: int) -> str:
    for _ in range(WARM_UP):
        await transaction()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        await transaction()
    wall_ms = (time.perf_counter() - wall) * 1000 / count
    cpu_ms = (time.process_time() - cpu) * 1000 / count
    return f"- {label}: {wall_ms:.2f} ms wall, {cpu_ms:.2f} ms CPU per transaction"


async def main_async(count: int) -> list[str]:
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    from crazy_gary.observability.db import instrument_engine
    from crazy_gary.observability.store import SpanStore

    database = Database(f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='cg-db-paths-')}/b.db")
    async with database.engine.begin() as conn:
        await conn.run_sync(METADATA.create_all)
        await conn.execute(insert(ROWS).values(id=1, label="counter", count=0))

    async def through_async_session() -> None:
        async with database.sessionmaker() as session:
            for statement in step_statements():
                await session.execute(statement)
            await session.commit()

    def work(session: Session) -> None:
        for statement in step_statements():
            session.execute(statement)

    async def in_one_thread_hop() -> None:
        await thread_transaction(work, database)

    lines = [await timed("async engine (aiosqlite), one statement at a time",
                         through_async_session, count),
             await timed("blocking engine, one worker-thread hop (db.thread_transaction)",
                         in_one_thread_hop, count)]
    provider = TracerProvider()
    provider.add_span_processor(SpanStore())
    trace.set_tracer_provider(provider)
    instrument_engine(database.engine.sync_engine)
    instrument_engine(database.blocking_engine)
    with trace.get_tracer("bench").start_as_current_span("agent.step"):
        lines.append(await timed("async engine, each statement traced",
                                 through_async_session, count))
        lines.append(await timed("one worker-thread hop, each statement traced",
                                 in_one_thread_hop, count))
    await database.dispose()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transactions", type=int, default=500)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    lines = asyncio.run(main_async(args.transactions))
    report = (f"SQLite, {args.transactions} transactions of UPDATE + INSERT + SELECT + INSERT "
              "+ COMMIT, one at a time:\n" + "\n".join(lines))
    append_report("db_paths.md", report, load)


if __name__ == "__main__":
    main()
