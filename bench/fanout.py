"""Fan-out benchmark: N SSE subscribers and M socket.io clients on ONE server process.

Measures the latency from `publish()` (inside the server) to receipt by every client.

    .venv/bin/python bench/fanout.py run --sse 1000 --sio 1000 --events 30

The server runs the real app (SQLite, no Redis unless REDIS_URL is set) in a child
process with one extra bench-only route that publishes a system event stamped with the
publish time; clients run in several child processes (so the client side is not one
saturated loop) and report per-receipt latencies. Results go to bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]


# ---------------------------------------------------------------- server
def serve(port: int) -> None:
    import uvicorn
    from fastapi import FastAPI

    from crazy_gary.asgi import build_asgi
    from crazy_gary.config import get_settings
    from crazy_gary.realtime import publish
    from crazy_gary.realtime.broker import broker

    asgi = build_asgi(get_settings())
    app: FastAPI = asgi.fastapi_app

    async def bench_publish(seq: int):
        await publish("bench", {"seq": seq, "t": time.time()})
        return {"ok": True}

    async def bench_subscribers():
        return {"sse": len(broker), "sio": len(asgi.sio.manager.rooms.get("/", {}).get(None, {}))}

    app.add_api_route("/bench/publish/{seq}", bench_publish, methods=["POST"])
    app.add_api_route("/bench/subscribers", bench_subscribers)
    import cProfile

    profiler = cProfile.Profile()

    async def profile(action: str):
        if action == "start":
            profiler.enable()
        else:
            profiler.disable()
            profiler.dump_stats(os.environ.get("BENCH_PROFILE", "/tmp/fanout.prof"))
        return {"ok": True}

    app.add_api_route("/bench/profile/{action}", profile, methods=["POST"])
    uvicorn.run(asgi, host="127.0.0.1", port=port, log_level="warning", backlog=4096)


# ---------------------------------------------------------------- clients
async def run_clients(url: str, token: str, sse: int, sio: int, events: int, out: str) -> None:
    import aiohttp
    import socketio

    latencies: dict[int, list[float]] = {}
    done = asyncio.Event()
    expected = events * (sse + sio)
    received = 0

    def note(data: dict) -> None:
        nonlocal received
        latencies.setdefault(data["seq"], []).append(time.time() - data["t"])
        received += 1
        if received >= expected:
            done.set()

    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None),
                                    connector=aiohttp.TCPConnector(limit=0))
    ready = 0

    async def sse_client() -> None:
        nonlocal ready
        async with session.get(f"{url}/api/observability/events/stream",
                               params={"token": token}) as resp:
            ready += 1
            async for raw in resp.content:
                line = raw.decode().rstrip("\n")
                if line.startswith("data:"):
                    payload = json.loads(line[5:])
                    if payload["event"] == "bench":
                        note(payload["data"])

    clients = []

    async def sio_client() -> None:
        nonlocal ready
        client = socketio.AsyncClient(reconnection=False)
        client.on("bench", note)
        await client.connect(url, auth={"token": token}, transports=["websocket"],
                             wait_timeout=60)
        clients.append(client)
        ready += 1

    tasks = [asyncio.create_task(sse_client()) for _ in range(sse)]
    for batch in range(0, sio, 50):
        await asyncio.gather(*(sio_client() for _ in range(min(50, sio - batch))))
    while ready < sse + sio:  # noqa: ASYNC110 - a bench loop
        await asyncio.sleep(0.05)
    Path(out + ".ready").touch()  # noqa: ASYNC240
    try:
        await asyncio.wait_for(done.wait(), 60 + events * 2)
    except TimeoutError:
        pass
    Path(out).write_text(json.dumps({"latencies": latencies, "received": received,  # noqa: ASYNC240
                                     "expected": expected}))
    for t in tasks:
        t.cancel()
    await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)
    await session.close()


# ---------------------------------------------------------------- orchestration
def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))] if values else float("nan")


def run(args: argparse.Namespace) -> dict:
    import httpx
    from tests.support import free_port, register, subprocess_env, wait_http

    data_dir = tempfile.mkdtemp(prefix="cg-bench-")
    port = free_port()
    env = subprocess_env({"CRAZY_GARY_DATA_DIR": data_dir, "RATE_LIMITS_ENABLED": "false",
                          "HUGGINGFACE_API_KEY": "bench", "SSE_HEARTBEAT_SECONDS": "15",
                          "CRAZY_GARY_EXECUTOR_ID": f"bench-{port}",
                          "ALERT_EVALUATION_SECONDS": "59"})
    server = subprocess.Popen([sys.executable, __file__, "server", "--port", str(port)], env=env)
    url = f"http://127.0.0.1:{port}"
    procs: list[subprocess.Popen] = []
    try:
        wait_http(url + "/health/live", 60)

        async def make_user():
            async with httpx.AsyncClient(base_url=url, timeout=30) as c:
                return await register(c)

        user = asyncio.run(make_user())
        workers = args.workers
        outs = []
        for i in range(workers):
            out = os.path.join(data_dir, f"client-{i}.json")
            outs.append(out)
            procs.append(subprocess.Popen(
                [sys.executable, __file__, "clients", "--url", url, "--token", user.token,
                 "--sse", str(args.sse // workers + (i < args.sse % workers)),
                 "--sio", str(args.sio // workers + (i < args.sio % workers)),
                 "--events", str(args.events), "--out", out], env=env))
        deadline = time.time() + 180
        while not all(os.path.exists(o + ".ready") for o in outs):
            if any(p.poll() is not None for p in procs):
                raise RuntimeError("a client process died while connecting")
            if time.time() > deadline:
                raise TimeoutError("clients did not connect")
            time.sleep(0.2)
        subs = httpx.get(url + "/bench/subscribers").json()
        time.sleep(1.0)
        import psutil

        server_ps = psutil.Process(server.pid)
        cpu_before = sum(server_ps.cpu_times()[:2])
        load_before = os.getloadavg()[0]
        profiling = bool(os.environ.get("BENCH_PROFILE"))
        if profiling:
            httpx.post(url + "/bench/profile/start")
        for seq in range(args.events):
            httpx.post(f"{url}/bench/publish/{seq}", timeout=30)
            time.sleep(args.interval)
        for p in procs:
            p.wait(120)
        if profiling:
            httpx.post(url + "/bench/profile/stop")
        server_cpu = sum(server_ps.cpu_times()[:2]) - cpu_before
        per_event: dict[int, list[float]] = {}
        received = expected = 0
        for out in outs:
            result = json.loads(Path(out).read_text())
            received += result["received"]
            expected += result["expected"]
            for seq, values in result["latencies"].items():
                per_event.setdefault(int(seq), []).extend(values)
        receipts = [v for values in per_event.values() for v in values]
        all_received = [max(v) for v in per_event.values()]
        ms = 1000
        return {
            "machine": {"platform": platform.platform(), "python": platform.python_version(),
                        "cpus": os.cpu_count()},
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "config": {"sse": args.sse, "sio": args.sio, "events": args.events,
                       "interval_s": args.interval, "client_processes": workers,
                       "server_processes": 1, "subscribers_seen_by_server": subs},
            "delivered": f"{received}/{expected}",
            "server_cpu_ms_per_event": round(server_cpu / args.events * 1000, 1),
            "host_load_average_1m_at_start": round(load_before, 2),
            "receipt_latency_ms": {"p50": round(pct(receipts, .5) * ms, 1),
                                   "p99": round(pct(receipts, .99) * ms, 1),
                                   "max": round(max(receipts) * ms, 1) if receipts else None},
            "all_received_latency_ms": {
                "p50": round(statistics.median(all_received) * ms, 1) if all_received else None,
                "p99": round(pct(all_received, .99) * ms, 1),
                "max": round(max(all_received) * ms, 1) if all_received else None},
            "target": "p99 < 250 ms",
        }
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        server.terminate()
        server.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("server")
    s.add_argument("--port", type=int, required=True)
    c = sub.add_parser("clients")
    for name in ("--url", "--token", "--out"):
        c.add_argument(name, required=True)
    for name in ("--sse", "--sio", "--events"):
        c.add_argument(name, type=int, required=True)
    r = sub.add_parser("run")
    r.add_argument("--sse", type=int, default=1000)
    r.add_argument("--sio", type=int, default=1000)
    r.add_argument("--events", type=int, default=30)
    r.add_argument("--interval", type=float, default=0.5)
    r.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    if args.cmd == "server":
        serve(args.port)
    elif args.cmd == "clients":
        asyncio.run(run_clients(args.url, args.token, args.sse, args.sio, args.events, args.out))
    else:
        result = run(args)
        print(json.dumps(result, indent=2))
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        path = ROOT / "bench" / "results" / f"fanout-{stamp}.json"
        path.write_text(json.dumps(result, indent=2) + "\n")
        print(f"written to {path}")


if __name__ == "__main__":
    main()
