"""Tool hub benchmark: search latency over a large catalogue, and per-call overhead.

    .venv/bin/python bench/toolhub.py [--tools 2000] [--calls 200]

- search: BM25 over N synthetic tools (index build time and query p50/p99);
- execute: the hub's overhead around a real MCP call (`mcp-server-time` over stdio),
  compared with the same call on a bare SDK ClientSession; sequential and 16 concurrent.
Results (JSON, with machine and date) go to bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

WORDS = ("file read write search code repository commit branch issue pull request image "
         "convert time zone weather forecast email send calendar event database query table "
         "schema user list create delete update upload download archive compress translate "
         "text summarise web page fetch crawl index vector embed").split()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_search(n: int) -> dict:
    from crazy_gary.toolhub.search import ToolIndex
    from crazy_gary.toolhub.types import ToolInfo

    rng = random.Random(7)
    tools = []
    for i in range(n):
        name = "_".join(rng.sample(WORDS, 2)) + f"_{i}"
        desc = " ".join(rng.choices(WORDS, k=12))
        props = {w: {"type": "string"} for w in rng.sample(WORDS, 3)}
        tools.append(ToolInfo(name, desc, {"type": "object", "properties": props},
                              f"client{i % 20}"))
    started = time.perf_counter()
    index = ToolIndex(tools)
    build_ms = (time.perf_counter() - started) * 1000
    times = []
    for _ in range(300):
        query = " ".join(rng.sample(WORDS, 3))
        t = time.perf_counter()
        index.search(query, 10)
        times.append((time.perf_counter() - t) * 1000)
    return {"tools": n, "index_build_ms": round(build_ms, 2),
            "query_p50_ms": round(pct(times, 0.5), 3), "query_p99_ms": round(pct(times, 0.99), 3)}


async def bench_execute(calls: int) -> dict:
    from mcp import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    from crazy_gary.config import Settings
    from crazy_gary.toolhub import ToolHub
    from crazy_gary.toolhub.servers import parse_server

    command = str(Path(sys.executable).parent / "mcp-server-time")
    params = {"timezone": "UTC"}

    bare = []
    async with stdio_client(StdioServerParameters(command=command)) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            for _ in range(calls):
                t = time.perf_counter()
                await session.call_tool("get_current_time", params)
                bare.append((time.perf_counter() - t) * 1000)

    hub = ToolHub(Settings(CRAZY_GARY_DATA_DIR=tempfile.mkdtemp(prefix="bench-toolhub-")))
    await hub.start()
    connection = await hub.add_server(parse_server("time", {"command": command}))
    assert await connection.wait_connected(60)
    through = []
    for _ in range(calls):
        t = time.perf_counter()
        result = await hub.execute("time", "get_current_time", params, user_id=1)
        through.append((time.perf_counter() - t) * 1000)
        assert result.success
    t = time.perf_counter()
    await asyncio.gather(*(hub.execute("time", "get_current_time", params, user_id=1)
                           for _ in range(calls)))
    concurrent_s = time.perf_counter() - t
    await hub.close()
    return {
        "calls": calls,
        "bare_sdk_p50_ms": round(pct(bare, 0.5), 2), "bare_sdk_p99_ms": round(pct(bare, 0.99), 2),
        "hub_p50_ms": round(pct(through, 0.5), 2), "hub_p99_ms": round(pct(through, 0.99), 2),
        "hub_overhead_p50_ms": round(statistics.median(through) - statistics.median(bare), 2),
        "concurrent_calls_per_s": round(calls / concurrent_s, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tools", type=int, default=2000)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    result = {
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpus": os.cpu_count()},
        "date": datetime.now(UTC).isoformat(),
        "search": bench_search(args.tools),
        "execute": asyncio.run(bench_execute(args.calls)),
    }
    out = ROOT / "bench" / "results" / f"toolhub-{datetime.now(UTC):%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
