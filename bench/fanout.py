"""Fan-out benchmark: N SSE subscribers and M socket.io clients on ONE server process.

Measures the latency from `publish()` (inside the server) to receipt by every client.

    .venv/bin/python bench/fanout.py run --sse 1000 --sio 1000 --events 30

The server runs the real app (SQLite, no Redis unless REDIS_URL is set) in a child
process with one extra bench-only route that publishes a system event stamped with the
publish time; clients run in child processes (--workers, default 2) as raw asyncio
protocols (minimal HTTP/SSE and websocket/engine.io parsing, one timestamp per read) so they
take as little CPU from the shared cores as possible, and report per-receipt latencies.

Server CPU is counted from the first publish until every client has all its events (not
their disconnects); the server's idle background CPU is sampled first and reported, with
the per-event CPU net of it. Results go to bench/results/.
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

    from crazy_gary import runtime
    from crazy_gary.asgi import build_asgi
    from crazy_gary.config import get_settings
    from crazy_gary.realtime import publish

    asgi = build_asgi(get_settings())
    app: FastAPI = asgi.fastapi_app

    async def bench_publish(seq: int):
        await publish("bench", {"seq": seq, "t": time.time()})
        return {"ok": True}

    async def bench_subscribers():
        sockets = asgi.sio.manager.rooms.get("/", {}).get(None, {})
        return {"sse": len(runtime.current().fanout.broker), "sio": len(sockets)}

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

    import gc

    gc_stats = {"collections": [0, 0, 0], "seconds": [0.0, 0.0, 0.0]}
    gc_started = [0.0]

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            gc_started[0] = time.thread_time()
        else:
            gen = info["generation"]
            gc_stats["collections"][gen] += 1
            gc_stats["seconds"][gen] += time.thread_time() - gc_started[0]

    gc.callbacks.append(on_gc)

    async def gc_report(reset: int = 0):
        report = {"collections": list(gc_stats["collections"]),
                  "ms": [round(x * 1000, 1) for x in gc_stats["seconds"]],
                  "objects": len(gc.get_objects())}
        if reset:
            gc_stats.update(collections=[0, 0, 0], seconds=[0.0, 0.0, 0.0])
        return report

    app.add_api_route("/bench/gc", gc_report)

    async def gc_prepare(collect: int = 0, freeze: int = 0, threshold: str = ""):
        if collect:
            gc.collect()
        if freeze:
            gc.freeze()
        if threshold:
            gc.set_threshold(*map(int, threshold.split(",")))
        return {"threshold": gc.get_threshold(), "frozen": gc.get_freeze_count()}

    app.add_api_route("/bench/gc", gc_prepare, methods=["POST"])
    uvicorn.run(asgi, host="127.0.0.1", port=port, log_level="warning", backlog=4096)


# ---------------------------------------------------------------- clients
# Raw asyncio protocols, not aiohttp / python-socketio's client: the clients share the
# machine's cores with the server, so each receipt should cost them as little as possible.
# One timestamp per read; only what the bench needs is parsed.
class Receipts:
    def __init__(self, expected: int) -> None:
        self.latencies: dict[int, list[float]] = {}
        self.expected = expected
        self.received = 0
        self.done = asyncio.Event()

    def note(self, data: dict, now: float) -> None:
        self.latencies.setdefault(data["seq"], []).append(now - data["t"])
        self.received += 1
        if self.received >= self.expected:
            self.done.set()


class SSEClient(asyncio.Protocol):
    """GET the stream; pick `data: {...}` frames out of the (chunked) body."""

    def __init__(self, request: bytes, receipts: Receipts, ready: asyncio.Future) -> None:
        self.request, self.receipts, self.ready = request, receipts, ready
        self.buf = b""
        self.headers_done = False

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.time()
        buf = self.buf + data
        if not self.headers_done:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                self.buf = buf
                return
            if not buf.startswith(b"HTTP/1.1 200"):
                self.ready.set_exception(RuntimeError(buf[:200].decode("latin-1")))
                return
            self.headers_done = True
            self.ready.set_result(None)
            buf = buf[end + 4:]
        pos = 0
        while True:
            start = buf.find(b"data: ", pos)
            if start < 0:
                self.buf = buf[max(pos, len(buf) - 5):]
                return
            stop = buf.find(b"\n\n", start)
            if stop < 0:
                self.buf = buf[start:]
                return
            payload = json.loads(buf[start + 6:stop])
            if payload["event"] == "bench":
                self.receipts.note(payload["data"], now)
            pos = stop + 2


class SocketIOClient(asyncio.Protocol):
    """engine.io 4 / socket.io 5 over a websocket: connect with {token}, answer pings,
    read `42["bench", {...}]` events. Client frames are masked with a zero key (valid)."""

    def __init__(self, request: bytes, token: str, receipts: Receipts,
                 ready: asyncio.Future) -> None:
        self.request, self.token, self.receipts, self.ready = request, token, receipts, ready
        self.buf = b""
        self.upgraded = False

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(self.request)

    def send_text(self, text: str) -> None:
        self.send_frame(0x1, text.encode())

    def send_frame(self, opcode: int, payload: bytes) -> None:
        n = len(payload)
        first = 0x80 | opcode
        size = bytes([0x80 | n]) if n < 126 else bytes([0xFE]) + n.to_bytes(2, "big")
        header = bytes([first]) + size
        self.transport.write(header + b"\0\0\0\0" + payload)

    def data_received(self, data: bytes) -> None:
        now = time.time()
        buf = self.buf + data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                self.buf = buf
                return
            if not buf.startswith(b"HTTP/1.1 101"):
                self.ready.set_exception(RuntimeError(buf[:200].decode("latin-1")))
                return
            self.upgraded = True
            buf = buf[end + 4:]
        pos, size = 0, len(buf)
        while size - pos >= 2:
            opcode, n = buf[pos] & 0x0F, buf[pos + 1] & 0x7F
            head = 2
            if n == 126:
                if size - pos < 4:
                    break
                n, head = int.from_bytes(buf[pos + 2:pos + 4], "big"), 4
            elif n == 127:
                if size - pos < 10:
                    break
                n, head = int.from_bytes(buf[pos + 2:pos + 10], "big"), 10
            if size - pos < head + n:
                break
            if opcode == 1:
                self.on_text(buf[pos + head:pos + head + n], now)
            elif opcode == 9:  # the server's websocket keepalive (uvicorn: every 20 s)
                self.send_frame(0xA, buf[pos + head:pos + head + n])
            pos += head + n
        self.buf = buf[pos:]

    def on_text(self, msg: bytes, now: float) -> None:
        if msg.startswith(b"42"):
            name, data = json.loads(msg[2:])
            if name == "bench":
                self.receipts.note(data, now)
        elif msg == b"2":
            self.send_text("3")
        elif msg.startswith(b"0"):  # engine.io open: connect to the "/" namespace
            self.send_text("40" + json.dumps({"token": self.token}))
        elif msg.startswith(b"40") and not self.ready.done():
            self.ready.set_result(None)
        elif msg.startswith(b"44") and not self.ready.done():
            self.ready.set_exception(RuntimeError(msg.decode()))


async def run_clients(url: str, token: str, sse: int, sio: int, events: int, out: str) -> None:
    loop = asyncio.get_running_loop()
    host, port = url.removeprefix("http://").split(":")
    receipts = Receipts(events * (sse + sio))
    sse_request = ("GET /api/observability/events/stream HTTP/1.1\r\n"
                   f"Host: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
                   "Accept: text/event-stream\r\n\r\n").encode()
    ws_request = (f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {host}:{port}\r\n"
                  "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  "Sec-WebSocket-Version: 13\r\n\r\n").encode()
    transports = []

    async def connect(factory) -> None:
        ready = loop.create_future()
        transport, _ = await loop.create_connection(lambda: factory(ready), host, int(port))
        transports.append(transport)
        await asyncio.wait_for(ready, 60)

    pending = [lambda r: SSEClient(sse_request, receipts, r)] * sse + \
        [lambda r: SocketIOClient(ws_request, token, receipts, r)] * sio
    for batch in range(0, len(pending), 50):
        await asyncio.gather(*(connect(f) for f in pending[batch:batch + 50]))
    Path(out + ".ready").touch()  # noqa: ASYNC240
    cpu_start = time.process_time()
    try:
        await asyncio.wait_for(receipts.done.wait(), 60 + events * 2)
    except TimeoutError:
        pass
    Path(out).write_text(json.dumps({  # noqa: ASYNC240
        "latencies": receipts.latencies, "received": receipts.received,
        "expected": receipts.expected, "cpu_s": time.process_time() - cpu_start}))
    for transport in transports:
        transport.close()


# ---------------------------------------------------------------- orchestration
def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))] if values else float("nan")


def code_version() -> str:
    """The commit the server ran (its src is this checkout's), `+dirty` with local changes."""
    def git(*cmd: str) -> str:
        return subprocess.run(["git", "-C", str(ROOT), *cmd], capture_output=True,
                              text=True, check=False).stdout.strip()

    dirty = git("status", "--porcelain", "--", "src")
    return (git("rev-parse", "--short", "HEAD") or "unknown") + ("+dirty" if dirty else "")


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
        gc_setup = httpx.post(url + "/bench/gc", params={
            "collect": int(args.gc_collect), "freeze": int(args.gc_freeze),
            "threshold": args.gc_threshold}).json()
        time.sleep(1.0)
        import psutil

        server_ps = psutil.Process(server.pid)

        def cpu(ps) -> float:
            return sum(ps.cpu_times()[:2])

        # The server's own background work (engine polling, telemetry, ...) while idle, so
        # the fan-out's share can be told apart from it.
        idle_start, t_idle = cpu(server_ps), time.monotonic()
        time.sleep(args.idle_sample)
        background_per_s = (cpu(server_ps) - idle_start) / (time.monotonic() - t_idle)
        cpu_before, t_start = cpu(server_ps), time.monotonic()
        load_before = os.getloadavg()[0]
        httpx.get(url + "/bench/gc", params={"reset": 1})
        profiling = bool(os.environ.get("BENCH_PROFILE"))
        if profiling:
            httpx.post(url + "/bench/profile/start")
        for seq in range(args.events):
            httpx.post(f"{url}/bench/publish/{seq}", timeout=30)
            time.sleep(args.interval)
        # Stop the clock when every client has written its receipts, before they disconnect.
        while not all(os.path.exists(o) for o in outs):
            if any(p.poll() is not None and not os.path.exists(o)
                   for p, o in zip(procs, outs, strict=True)):
                raise RuntimeError("a client process died")
            time.sleep(0.05)
        server_cpu = cpu(server_ps) - cpu_before
        elapsed = time.monotonic() - t_start
        load_after = os.getloadavg()[0]
        gc_report = httpx.get(url + "/bench/gc").json()
        if profiling:
            httpx.post(url + "/bench/profile/stop")
        for p in procs:
            p.wait(120)
        per_event: dict[int, list[float]] = {}
        received = expected = 0
        clients_cpu = 0.0
        for out in outs:
            result = json.loads(Path(out).read_text())
            received += result["received"]
            expected += result["expected"]
            clients_cpu += result["cpu_s"]
            for seq, values in result["latencies"].items():
                per_event.setdefault(int(seq), []).extend(values)
        receipts = [v for values in per_event.values() for v in values]
        all_received = [max(v) for v in per_event.values()]
        ms = 1000
        return {
            "machine": {"platform": platform.platform(), "python": platform.python_version(),
                        "cpus": os.cpu_count()},
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "code": code_version(),
            "config": {"sse": args.sse, "sio": args.sio, "events": args.events,
                       "interval_s": args.interval, "client_processes": workers,
                       "server_processes": 1, "subscribers_seen_by_server": subs},
            "delivered": f"{received}/{expected}",
            "server_cpu_ms_per_event": round(server_cpu / args.events * 1000, 1),
            "server_background_cpu_ms_per_s": round(background_per_s * 1000, 1),
            "server_cpu_ms_per_event_net_of_background": round(
                (server_cpu - background_per_s * elapsed) / args.events * 1000, 1),
            "server_gc": {"setup": {"collect_before_events": args.gc_collect,
                                    "freeze_before_events": args.gc_freeze, **gc_setup},
                          "during_events_cpu_ms_by_generation": gc_report["ms"],
                          "collections_by_generation": gc_report["collections"],
                          "tracked_objects_at_end": gc_report["objects"]},
            "clients_cpu_ms_per_event": round(clients_cpu / args.events * 1000, 1),
            "host_load_average_1m_at_start": round(load_before, 2),
            "host_load_average_1m_at_end": round(load_after, 2),
            "receipt_latency_ms": {"p50": round(pct(receipts, .5) * ms, 1),
                                   "p99": round(pct(receipts, .99) * ms, 1),
                                   "max": round(max(receipts) * ms, 1) if receipts else None},
            "all_received_latency_ms": {
                "p50": round(statistics.median(all_received) * ms, 1) if all_received else None,
                "p99": round(pct(all_received, .99) * ms, 1),
                "max": round(max(all_received) * ms, 1) if all_received else None},
            "all_received_ms_by_event": [round(max(per_event[k]) * ms, 1)
                                         for k in sorted(per_event)],
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
    r.add_argument("--workers", type=int, default=2)
    r.add_argument("--gc-collect", action="store_true",
                   help="full collection once clients are connected, before publishing")
    r.add_argument("--gc-freeze", action="store_true",
                   help="gc.freeze() once clients are connected, before publishing")
    r.add_argument("--gc-threshold", default="", help="gc.set_threshold, e.g. 10000,20,100")
    r.add_argument("--idle-sample", type=float, default=3.0,
                   help="seconds of idle server CPU sampled before publishing")
    args = parser.parse_args()
    if args.cmd == "server":
        serve(args.port)
    elif args.cmd == "clients":
        import uvloop

        uvloop.run(run_clients(args.url, args.token, args.sse, args.sio, args.events, args.out))
    else:
        result = run(args)
        print(json.dumps(result, indent=2))
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        path = ROOT / "bench" / "results" / f"fanout-{stamp}.json"
        path.write_text(json.dumps(result, indent=2) + "\n")
        print(f"written to {path}")


if __name__ == "__main__":
    main()
