"""Benchmark: authenticated GET /api/auth/me and GET /api/users against a bare FastAPI
hello-world, each served by one uvicorn process, same machine, same run.

    .venv/bin/python bench/http_auth.py [--duration 10] [--connections 32]

Uses `hey` when installed (apt-get install -y hey), else a built-in raw-socket asyncio load
generator. Writes bench/results/http_auth-<date>.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
TARGET_RATIO = 0.25
TARGET_P99_MS = 50.0
SEED_USERS = 50


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_env(extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), str(HERE), env.get("PYTHONPATH", "")])
    env.update(extra)
    return env


def wait_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(url)


def start(args: list[str], env: dict[str, str], health: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, *args], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    wait_up(health)
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()


# ---------------------------------------------------------------- load generators
#
# `hey` (Debian package `hey`) on one OS thread (GOMAXPROCS=1), so on a small machine the
# load generator takes one core and leaves the rest to the server. wrk is not used: on this
# 2-core VM it reported p99s of 0.7-1.2 s for responses larger than its 8 KiB read buffer
# (/api/users is ~10 KB) that neither the server's own timings nor ab, hey or a raw-socket
# client saw (bench/results/http_auth-2026-11-26-load-generators.md).

def run_hey(url: str, headers: dict[str, str], connections: int, duration: int) -> dict:
    args = ["hey", "-c", str(connections), "-z", f"{duration}s"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run(args + [url], capture_output=True, text=True, check=True,
                         env={**os.environ, "GOMAXPROCS": "1"}).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    statuses = {int(code): int(count)
                for code, count in re.findall(r"\[(\d{3})\]\s+(\d+) responses", out)}
    failures = re.search(r"Error distribution:(.*)", out, re.S)

    def pct(p: str) -> float:
        return float(re.search(rf"\s{p}% in ([\d.]+) secs", out).group(1)) * 1000

    return {"rps": rps, "p50": pct("50"), "p99": pct("99"),
            "errors": sum(n for code, n in statuses.items() if code >= 300)
            + (sum(map(int, re.findall(r"\[(\d+)\]", failures.group(1)))) if failures else 0)}


async def _raw_load(url: str, headers: dict[str, str], connections: int,
                    duration: int) -> dict:
    """Keep-alive HTTP/1.1 over raw asyncio streams: light enough to share a machine."""
    parsed = httpx.URL(url)
    request = (f"GET {parsed.raw_path.decode()} HTTP/1.1\r\nHost: {parsed.host}:{parsed.port}\r\n"
               + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode()
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + duration

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(parsed.host, parsed.port)
        try:
            while time.perf_counter() < stop_at:
                t0 = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                await reader.readexactly(int(length.group(1)) if length else 0)
                latencies.append(time.perf_counter() - t0)
                errors += not head.startswith((b"HTTP/1.1 2", b"HTTP/1.0 2"))
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - t0
    q = statistics.quantiles(latencies, n=100)
    return {"rps": len(latencies) / elapsed, "p50": q[49] * 1000, "p99": q[98] * 1000,
            "errors": errors}


def run_load(url, headers, connections, duration, tool) -> dict:
    if tool == "hey":
        return run_hey(url, headers, connections, duration)
    return asyncio.run(_raw_load(url, headers, connections, duration))


# ---------------------------------------------------------------- the service

def seed(base: str, env: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """An admin (via the CLI, as an operator would) plus SEED_USERS registered users; the
    admin's access token and an API key of theirs, as request headers."""
    subprocess.run([sys.executable, "-m", "crazy_gary", "create-admin", "--email",
                    "bench@example.com"], env={**env, "CRAZY_GARY_ADMIN_PASSWORD": "B3nch-pass"},
                   check=True, capture_output=True)

    async def register_all() -> tuple[str, str]:
        async with httpx.AsyncClient(base_url=base, timeout=60) as c:
            sem = asyncio.Semaphore(8)

            async def one(i: int) -> None:
                async with sem:
                    await c.post("/api/auth/register", json={
                        "email": f"user{i}@example.com", "password": "Passw0rd-123",
                        "fullName": f"User {i}"})

            await asyncio.gather(*(one(i) for i in range(SEED_USERS)))
            resp = await c.post("/api/auth/login", json={"email": "bench@example.com",
                                                         "password": "B3nch-pass"})
            resp.raise_for_status()
            token = resp.json()["token"]
            key = await c.post("/api/auth/api-keys", json={"name": "bench",
                                                           "scopes": ["tasks:read"]},
                               headers={"Authorization": f"Bearer {token}"})
            key.raise_for_status()
            return token, key.json()["key"]

    token, key = asyncio.run(register_all())
    return {"Authorization": f"Bearer {token}"}, {"X-API-Key": key}


def login_timing(base: str, samples: int = 20) -> dict[str, float]:
    """Median login latency (ms) for a wrong password vs an unknown email, interleaved."""
    times: dict[str, list[float]] = {"wrong password": [], "unknown email": []}
    with httpx.Client(base_url=base, timeout=30) as c:
        for i in range(samples):
            for kind, email in (("wrong password", "user1@example.com"),
                                ("unknown email", f"nobody{i}@example.com")):
                t0 = time.perf_counter()
                resp = c.post("/api/auth/login", json={"email": email, "password": "Wr0ng-pass"})
                times[kind].append((time.perf_counter() - t0) * 1000)
                assert resp.status_code == 401
    return {kind: statistics.median(values) for kind, values in times.items()}


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())[1])
        mem = f"{mem_kb / 1024 / 1024:.1f} GiB"
    except OSError:
        mem = "unknown"
    import fastapi
    import uvicorn

    return {"nproc": str(os.cpu_count()), "cpu": cpu, "memory": mem,
            "python": platform.python_version(), "fastapi": fastapi.__version__,
            "uvicorn": uvicorn.__version__, "os": platform.platform()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per route per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--tool", choices=["auto", "hey", "python"], default="auto")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--database-url", default="",
                        help="serve on this database (e.g. postgresql://…; it is reset!) "
                             "instead of embedded SQLite")
    args = parser.parse_args()
    if args.database_url:
        reset_database(args.database_url)
    tool = args.tool if args.tool != "auto" else ("hey" if shutil.which("hey") else "python")

    data_dir = Path(tempfile.mkdtemp(prefix="cg-bench-"))
    env = child_env({"CRAZY_GARY_DATA_DIR": str(data_dir), "DATABASE_URL": args.database_url,
                     "REDIS_URL": "",
                     "RATE_LIMITS_ENABLED": "false", "HUGGINGFACE_API_KEY": "bench",
                     "CRAZY_GARY_EXECUTOR_ID": "bench"})
    hello_port, port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    procs = [
        start(["-m", "uvicorn", "hello_app:app", "--host", "127.0.0.1", "--port",
               str(hello_port), "--log-level", "warning"], env, f"http://127.0.0.1:{hello_port}/"),
        start(["-m", "crazy_gary", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--log-level", "warning"], env, f"{base}/health/live"),
    ]
    try:
        headers, key_headers = seed(base, env)
        targets = {
            "bare FastAPI hello-world": (f"http://127.0.0.1:{hello_port}/", {}),
            "GET /health/live (no auth; the service's fixed per-request cost)":
                (f"{base}/health/live", {}),
            "GET /api/auth/me": (f"{base}/api/auth/me", headers),
            # An API key is looked up on every request (no cache): one indexed read.
            "GET /api/auth/me with an API key": (f"{base}/api/auth/me", key_headers),
            "GET /api/users (50 per page)": (f"{base}/api/users", headers),
            # The same request asking for a fresh read: the page query and its encoding
            # on every request, as on the first read after any change to users.
            "GET /api/users (50 per page), Cache-Control: no-cache":
                (f"{base}/api/users", {**headers, "Cache-Control": "no-cache"}),
        }
        for url, hdrs in targets.values():  # warm-up
            run_load(url, hdrs, args.connections, 2, tool)
        # Interleaved rounds, so a neighbour's load drifting over time hits every route alike.
        rounds: dict[str, list[dict]] = {name: [] for name in targets}
        for _ in range(args.rounds):
            for name, (url, hdrs) in targets.items():
                rounds[name].append(run_load(url, hdrs, args.connections, args.duration, tool))
        timing = login_timing(base)
    finally:
        for proc in procs:
            stop(proc)
    results = {name: median_of(runs) for name, runs in rounds.items()}
    report = render(results, machine(), tool, args, rounds)
    report += ("\nLogin failure timing (median of 20, sequential): " + ", ".join(
        f"{kind} {ms:.1f} ms" for kind, ms in timing.items()) + "\n")
    print(report)
    name = "http_auth-postgres" if args.database_url else "http_auth"
    out = args.out or HERE / "results" / f"{name}-{dt.date.today().isoformat()}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    print(f"written to {out}")


def reset_database(url: str) -> None:
    """Empty the PostgreSQL schema so the run starts from a fresh database."""
    from sqlalchemy import create_engine, text

    sync = url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(sync, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def median_of(runs: list[dict]) -> dict:
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def render(results: dict[str, dict], facts: dict[str, str], tool: str, args,
           rounds: dict[str, list[dict]]) -> str:
    baseline = results["bare FastAPI hello-world"]["rps"]
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# HTTP benchmark: authenticated routes vs a bare FastAPI hello-world",
        "",
        f"Date: {now}. Load: {tool}, {args.connections} connections; {args.rounds} interleaved "
        f"rounds of {args.duration} s per route after a 2 s warm-up, medians shown; one "
        "uvicorn process per server (`--log-level warning`), both up for the whole run; "
        f"service `crazy-gary serve` on {'PostgreSQL' if args.database_url else 'SQLite'} "
        f"(durable engine running, rate limits off, {SEED_USERS + 1} users).",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in facts.items()),
        "",
        "| route | req/s | p50 ms | p99 ms | non-2xx | ratio to hello-world |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    verdicts = []
    for name, r in results.items():
        ratio = r["rps"] / baseline
        lines.append(f"| {name} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p99']:.1f} | "
                     f"{r['errors']} | {ratio:.2f} |")
        if name.startswith("GET /api"):
            ok = ratio >= TARGET_RATIO and r["p99"] < TARGET_P99_MS
            verdicts.append(f"- {name}: ratio {ratio:.2f} (target >= {TARGET_RATIO}), "
                            f"p99 {r['p99']:.1f} ms (target < {TARGET_P99_MS:.0f}) -> "
                            f"{'met' if ok else 'MISSED'}")
    per_round = ["", "Per round (req/s): " + "; ".join(
        f"{name}: " + ", ".join(f"{r['rps']:.0f}" for r in runs) for name, runs in rounds.items())]
    try:
        load = Path("/proc/loadavg").read_text().split()[:3]
        per_round.append(f"Load average at the end: {' '.join(load)}")
    except OSError:
        pass
    return "\n".join(lines + ["", "Targets:", *verdicts, *per_round, ""])


if __name__ == "__main__":
    main()
