"""SSE and socket.io test clients."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx


class SSEReader:
    """Reads an SSE stream in the background, collecting (id, event, data) frames."""

    def __init__(self, url: str, *, token: str | None = None, headers: dict | None = None,
                 last_event_id: int | None = None) -> None:
        self.url = url
        self.headers = dict(headers or {})
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        if last_event_id is not None:
            self.headers["Last-Event-ID"] = str(last_event_id)
        self.frames: list[dict[str, Any]] = []
        self.status: int | None = None
        self.comments = 0
        self._task: asyncio.Task | None = None
        self._connected = asyncio.Event()

    async def __aenter__(self) -> SSEReader:
        self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(self._connected.wait(), 10)
        return self

    async def __aexit__(self, *exc) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        async with httpx.AsyncClient(timeout=httpx.Timeout(30, read=None)) as client:
            async with client.stream("GET", self.url, headers=self.headers) as resp:
                self.status = resp.status_code
                if resp.status_code != 200:
                    self._connected.set()
                    return
                frame: dict[str, Any] = {}
                async for line in resp.aiter_lines():
                    if line.startswith(":"):
                        self.comments += 1
                        self._connected.set()
                    elif line.startswith("id:"):
                        frame["id"] = int(line[3:].strip())
                    elif line.startswith("data:"):
                        payload = json.loads(line[5:].strip())
                        frame.update(event=payload["event"], data=payload["data"])
                    elif line == "" and frame:
                        self.frames.append(frame)
                        frame = {}

    @property
    def ended(self) -> bool:
        """The server closed the stream (or it never opened)."""
        return self._task is not None and self._task.done()

    async def wait_closed(self, within: float) -> float:
        """Seconds until the server closes the stream; fails if it stays open `within`."""
        started = asyncio.get_running_loop().time()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), within)
        except TimeoutError:
            raise AssertionError(f"stream still open after {within} s") from None
        return asyncio.get_running_loop().time() - started

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        return [f for f in self.frames if name is None or f["event"] == name]

    async def wait_for(self, predicate, within: float = 10.0) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + within
        while True:
            for frame in self.frames:
                if predicate(frame):
                    return frame
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no matching frame; got {self.frames}")
            await asyncio.sleep(0.02)


async def publish_on(server, event: str, data: dict, user_id: int | None = None) -> int:
    """Publish through the server's own loop (as a domain inside the service would)."""
    from crazy_gary.realtime import publish

    return await asyncio.to_thread(server.run_coro, publish(event, data, user_id=user_id))


class ThrowawayRedis:
    """A private redis-server on a free port (never the machine's shared one)."""

    def __init__(self) -> None:
        from tests.support import free_port

        self.port = free_port()
        self.proc = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> ThrowawayRedis:
        import shutil
        import subprocess
        import time

        import redis

        binary = shutil.which("redis-server")
        if binary is None:
            import pytest

            pytest.skip("redis-server not installed")
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url)
        for _ in range(100):
            try:
                client.ping()
                return self
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("throwaway redis did not start")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
