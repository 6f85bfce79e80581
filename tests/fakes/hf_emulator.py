"""An emulator of the Hugging Face Inference Endpoints REST API (the part we drive).

Routes (under the base given to `HF_ENDPOINTS_API_URL`): `GET /endpoint/{ns}/{name}`,
`POST /endpoint/{ns}/{name}/pause`, `/resume`, `/scale-to-zero`, answering the JSON the
real `huggingface_hub` client parses. A resumed endpoint goes pending -> initializing ->
running on a timer; once running its `url` is set and `GET {url}{healthRoute}` answers 200
(served by this emulator at `/ep/{ns}/{name}/health`, unless the endpoint was given a
`url` of its own, e.g. an OpenAI stand-in that also serves /health).

Failure injection (`EmulatedEndpoint` fields, or `POST /_control/endpoint`):
`fail_on_resume` (the endpoint ends `failed` instead of `running`), `api_error` (every API
call for it answers that HTTP status), and `set_state(...)` to force a state at once.
Every API call is recorded in `calls` (method, path, authorization).
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from aiohttp import web


@dataclass
class EmulatedEndpoint:
    namespace: str
    name: str
    state: str = "paused"
    url: str | None = None  # where the model answers once running (default: the emulator)
    pending_seconds: float = 0.3
    initializing_seconds: float = 0.5
    fail_on_resume: bool = False
    api_error: int | None = None
    resumed_at: float | None = None
    updated_at: str = field(default_factory=lambda: _now())

    def current_state(self) -> str:
        if self.state == "resuming":
            elapsed = time.monotonic() - (self.resumed_at or 0)
            if elapsed < self.pending_seconds:
                return "pending"
            if elapsed < self.pending_seconds + self.initializing_seconds:
                return "initializing"
            self.state = "failed" if self.fail_on_resume else "running"
            self.updated_at = _now()
        return self.state


class HfEmulator:
    """The emulator on its own event loop in a daemon thread."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host, self.port = host, 0
        self.endpoints: dict[tuple[str, str], EmulatedEndpoint] = {}
        self.calls: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """What HF_ENDPOINTS_API_URL should be."""
        return f"{self.base}/v2"

    def add(self, namespace: str, name: str, **kwargs: Any) -> EmulatedEndpoint:
        with self.lock:
            ep = EmulatedEndpoint(namespace, name, **kwargs)
            self.endpoints[(namespace, name)] = ep
            return ep

    def get(self, namespace: str, name: str) -> EmulatedEndpoint:
        return self.endpoints[(namespace, name)]

    def set_state(self, namespace: str, name: str, state: str) -> None:
        with self.lock:
            ep = self.get(namespace, name)
            ep.state, ep.updated_at = state, _now()

    def state(self, namespace: str, name: str) -> str:
        with self.lock:
            return self.get(namespace, name).current_state()

    def calls_to(self, action: str) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["action"] == action]

    # -- wire format ------------------------------------------------------------------
    def _raw(self, ep: EmulatedEndpoint) -> dict[str, Any]:
        state = ep.current_state()
        url = None
        if state == "running":
            url = ep.url or f"{self.base}/ep/{ep.namespace}/{ep.name}"
        return {
            "name": ep.name, "type": "protected", "accountId": None,
            "provider": {"vendor": "aws", "region": "us-east-1"},
            "compute": {"accelerator": "gpu", "instanceType": "nvidia-a100",
                        "instanceSize": "x1", "scaling": {"minReplica": 0, "maxReplica": 1}},
            "model": {"repository": f"openai/{ep.name}", "framework": "pytorch",
                      "revision": "main", "task": "text-generation",
                      "image": {"custom": {"url": "vllm/vllm-openai:latest",
                                           "healthRoute": "/health"}}},
            "status": {"state": state, "url": url, "createdAt": "2026-01-01T00:00:00.000Z",
                       "updatedAt": ep.updated_at, "message": f"Endpoint is {state}",
                       "readyReplica": 1 if state == "running" else 0,
                       "targetReplica": 1 if state in ("running", "pending",
                                                       "initializing") else 0},
            "healthRoute": "/health",
        }

    def _app(self) -> web.Application:
        app = web.Application()

        def lookup(request: web.Request, action: str):
            ns, name = request.match_info["ns"], request.match_info["name"]
            self.calls.append({"action": action, "namespace": ns, "name": name,
                               "authorization": request.headers.get("Authorization")})
            ep = self.endpoints.get((ns, name))
            if ep is None:
                raise web.HTTPNotFound(text='{"error": "Endpoint not found"}',
                                       content_type="application/json")
            if ep.api_error:
                raise _status_error(ep.api_error)
            return ep

        async def get_endpoint(request: web.Request) -> web.Response:
            with self.lock:
                ep = lookup(request, "get")
                return web.json_response(self._raw(ep))

        async def pause(request: web.Request) -> web.Response:
            with self.lock:
                ep = lookup(request, "pause")
                ep.state, ep.resumed_at = "paused", None
                ep.updated_at = _now()
                return web.json_response(self._raw(ep))

        async def scale_to_zero(request: web.Request) -> web.Response:
            with self.lock:
                ep = lookup(request, "scale-to-zero")
                ep.state = "scaledToZero"
                return web.json_response(self._raw(ep))

        async def resume(request: web.Request) -> web.Response:
            with self.lock:
                ep = lookup(request, "resume")
                if ep.current_state() == "running":
                    return web.json_response({"error": "Endpoint is already running"},
                                             status=400)
                if ep.state != "resuming":
                    ep.state, ep.resumed_at = "resuming", time.monotonic()
                return web.json_response(self._raw(ep))

        async def health(request: web.Request) -> web.Response:
            ep = self.endpoints.get((request.match_info["ns"], request.match_info["name"]))
            ok = ep is not None and ep.current_state() == "running"
            return web.json_response({"ok": ok}, status=200 if ok else 503)

        async def control(request: web.Request) -> web.Response:
            body = await request.json()
            with self.lock:
                ep = self.endpoints.get((body["namespace"], body["name"]))
                if ep is None:
                    ep = EmulatedEndpoint(body["namespace"], body["name"])
                    self.endpoints[(ep.namespace, ep.name)] = ep
                for key, value in body.items():
                    if key not in ("namespace", "name"):
                        setattr(ep, key, value)
            return web.json_response({"ok": True})

        base = "/v2/endpoint/{ns}/{name}"
        app.router.add_get(base, get_endpoint)
        app.router.add_post(base + "/pause", pause)
        app.router.add_post(base + "/resume", resume)
        app.router.add_post(base + "/scale-to-zero", scale_to_zero)
        app.router.add_get("/ep/{ns}/{name}/health", health)
        app.router.add_post("/_control/endpoint", control)
        return app

    def start(self) -> HfEmulator:
        ready = threading.Event()

        async def serve() -> None:
            self._runner = web.AppRunner(self._app(), access_log=None)
            await self._runner.setup()
            site = web.TCPSite(self._runner, self.host, 0)
            await site.start()
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(serve())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True, name="hf-emulator")
        self._thread.start()
        if not ready.wait(15):
            raise TimeoutError("HF emulator did not start")
        return self

    def stop(self) -> None:
        if self._loop and self._runner:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            if self._thread:
                self._thread.join(10)

    def control(self, namespace: str, name: str, **fields: Any) -> None:
        """Change an endpoint over HTTP (for an emulator in another process)."""
        httpx.post(f"{self.base}/_control/endpoint",
                   json={"namespace": namespace, "name": name, **fields},
                   timeout=10).raise_for_status()


def _status_error(status: int) -> web.HTTPException:
    cls = type(f"Injected{status}", (web.HTTPException,), {"status_code": status})
    return cls(text='{"error": "injected failure"}', content_type="application/json")


def _now() -> str:
    """The timestamp format the HF API uses (and huggingface_hub insists on)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
