"""A scripted OpenAI-compatible chat server (stand-in for vLLM / TGI / llama.cpp).

Speaks the real wire protocol over HTTP: `POST /v1/chat/completions` (plain JSON or
`stream: true` server-sent events, tool calls, `reasoning_content`, usage) and
`GET /v1/models` (and `GET /health`, as vLLM serves it). Replies come from scripts
chosen by a tag: a request whose messages contain `[[script:TAG]]` consumes the next
reply of script TAG (the last reply repeats once the script is exhausted). A script
registered with `by="turn"` answers by the conversation instead of by request count:
reply N for a request already holding N assistant messages (for an agent task: the plan
is turn 0, the first acting call turn 1, the call after one tool round turn 2, ...). A
request sent again (a call retried, or re-run after a crash) then gets the same reply,
where the count would move on to the next one. A script registered as `TAG@MODEL`
(MODEL = the model id of the request) wins over plain `TAG`, so one server can answer
the two models differently. A request without a tag (or with an unknown tag) gets a
default answer.

A reply is a dict:
- `{"content": "text"}` and/or `{"tool_calls": [{"name": str, "arguments": dict | str}]}`
  (a string is sent as is, so malformed JSON can be scripted)
- optional `"reasoning": "text"` (sent as `reasoning_content`), `"usage":
  {"prompt_tokens", "completion_tokens"}`, `"finish_reason"`, `"delay": seconds` (waited
  before answering; abandoned when the client disconnects)
- optional `"barrier": {"name": str, "parties": n, "timeout": seconds}`: the reply is held
  until n requests carrying the same barrier name have arrived (so a test can prove n
  calls are in flight at once); if they have not within the timeout (default 30 s) the
  reply's content becomes `barrier NAME broken: k of n arrived`.
- `{"error": status, "retry_after": seconds, "message": "text"}` answers that HTTP error.

Control over HTTP (so a subprocess can be scripted too):
`POST /_control/script {"tag", "replies": [...], "by": "count" | "turn"}`,
`GET /_control/requests?tag=` (every recorded request body, oldest first),
`GET /_control/barriers` (requests arrived per barrier name), `POST /_control/reset`,
`POST /_control/health {"healthy": bool}` (`/v1/models` answers 503 when unhealthy),
`POST /_control/exit {"code": n}` (a subprocess exits at once, to simulate a crash).

Run: `python -m tests.fakes.openai_standin --port N`, or `ScriptedModelServer().start()`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import threading
import time
import uuid
from typing import Any

import httpx
from aiohttp import web

TAG_RE = re.compile(r"\[\[script:([^\]]+)\]\]")
DEFAULT_REPLY: dict[str, Any] = {"content": "Hello from the stand-in model."}
MODES = ("count", "turn")


class StandinState:
    """Scripts, their cursors and the request log (one per server)."""

    def __init__(self) -> None:
        self.scripts: dict[str, list[dict[str, Any]]] = {}
        self.cursors: dict[str, int] = {}
        self.modes: dict[str, str] = {}
        self.requests: list[dict[str, Any]] = []
        self.healthy = True
        self.lock = threading.Lock()
        # barrier name -> requests arrived, and the event set once all parties have
        # (touched only on the server's event loop)
        self.arrivals: dict[str, int] = {}
        self.barriers: dict[str, asyncio.Event] = {}

    def reset(self) -> None:
        with self.lock:
            self.scripts.clear()
            self.cursors.clear()
            self.modes.clear()
            self.requests.clear()
            self.healthy = True
            self.arrivals.clear()
            self.barriers.clear()

    async def meet(self, barrier: dict[str, Any]) -> str | None:
        """Wait at a barrier until all its parties arrived; None, or why it broke."""
        name, parties = str(barrier["name"]), int(barrier["parties"])
        arrived = self.arrivals[name] = self.arrivals.get(name, 0) + 1
        everyone = self.barriers.setdefault(name, asyncio.Event())
        if arrived >= parties:
            everyone.set()
        try:
            await asyncio.wait_for(everyone.wait(), float(barrier.get("timeout", 30.0)))
        except TimeoutError:
            return f"barrier {name} broken: {self.arrivals.get(name, 0)} of {parties} arrived"
        return None

    def script(self, tag: str, replies: list[dict[str, Any]], by: str = "count") -> None:
        if by not in MODES:
            raise ValueError(f"by must be one of {MODES}, not {by!r}")
        with self.lock:
            self.scripts[tag] = list(replies)
            self.cursors[tag] = 0
            self.modes[tag] = by

    def next_reply(self, tag: str | None, model: str | None,
                   messages: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        with self.lock:
            if tag is None:
                return DEFAULT_REPLY
            key = f"{tag}@{model}" if f"{tag}@{model}" in self.scripts else tag
            replies = self.scripts.get(key)
            if not replies:
                return DEFAULT_REPLY
            if self.modes.get(key) == "turn":
                index = turn_of(messages or [])
            else:
                index = self.cursors.get(key, 0)
                self.cursors[key] = index + 1
            return replies[min(index, len(replies) - 1)]

    def record(self, tag: str | None, body: dict[str, Any]) -> None:
        with self.lock:
            self.requests.append({"tag": tag, "body": body})

    def recorded(self, tag: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [r["body"] for r in self.requests if tag is None or r["tag"] == tag]


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) if isinstance(p, dict) else str(p) for p in content)
    return ""


def find_tag(messages: list[dict[str, Any]]) -> str | None:
    for message in messages or []:
        match = TAG_RE.search(_text_of(message.get("content")))
        if match:
            return match.group(1)
    return None


def turn_of(messages: list[dict[str, Any]]) -> int:
    """How many assistant turns the conversation already holds (the reply index by turn)."""
    return sum(1 for message in messages if message.get("role") == "assistant")


def _usage(reply: dict[str, Any], messages: list[dict[str, Any]]) -> dict[str, int]:
    usage = reply.get("usage") or {}
    prompt = int(usage.get("prompt_tokens",
                           sum(len(_text_of(m.get("content")).split()) for m in messages)))
    completion = int(usage.get("completion_tokens",
                               len((reply.get("content") or "").split()) or 1))
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}


def _tool_calls(reply: dict[str, Any]) -> list[dict[str, Any]]:
    calls = []
    for i, call in enumerate(reply.get("tool_calls") or []):
        args = call.get("arguments", {})
        calls.append({
            "id": call.get("id") or f"call_{uuid.uuid4().hex[:12]}",
            "type": "function",
            "function": {"name": call["name"],
                         "arguments": args if isinstance(args, str) else json.dumps(args)},
            "index": i,
        })
    return calls


def _finish_reason(reply: dict[str, Any]) -> str:
    return reply.get("finish_reason") or ("tool_calls" if reply.get("tool_calls") else "stop")


def _completion(reply: dict[str, Any], model: str, messages: list[dict[str, Any]]) -> dict:
    message: dict[str, Any] = {"role": "assistant", "content": reply.get("content")}
    if reply.get("reasoning") is not None:
        message["reasoning_content"] = reply["reasoning"]
    calls = _tool_calls(reply)
    if calls:
        message["tool_calls"] = [{k: v for k, v in c.items() if k != "index"} for c in calls]
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:16]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": _finish_reason(reply),
                     "logprobs": None}],
        "usage": _usage(reply, messages),
    }


def _pieces(text: str, size: int = 8) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)] or []


def _chunks(reply: dict[str, Any], model: str, messages: list[dict[str, Any]]):
    cid, created = f"chatcmpl-{uuid.uuid4().hex[:16]}", int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None, usage=None, choices=True):
        body: dict[str, Any] = {"id": cid, "object": "chat.completion.chunk",
                                "created": created, "model": model,
                                "choices": [{"index": 0, "delta": delta,
                                             "finish_reason": finish, "logprobs": None}]
                                if choices else []}
        if usage is not None:
            body["usage"] = usage
        return body

    yield chunk({"role": "assistant", "content": ""})
    for piece in _pieces(reply.get("reasoning") or ""):
        yield chunk({"reasoning_content": piece})
    for piece in _pieces(reply.get("content") or ""):
        yield chunk({"content": piece})
    for call in _tool_calls(reply):
        fn = call["function"]
        yield chunk({"tool_calls": [{"index": call["index"], "id": call["id"],
                                     "type": "function",
                                     "function": {"name": fn["name"], "arguments": ""}}]})
        for piece in _pieces(fn["arguments"], 16):
            yield chunk({"tool_calls": [{"index": call["index"],
                                         "function": {"arguments": piece}}]})
    yield chunk({}, finish=_finish_reason(reply))
    yield chunk({}, usage=_usage(reply, messages), choices=False)


def _error_response(reply: dict[str, Any]) -> web.Response:
    status = int(reply["error"])
    headers = {}
    if reply.get("retry_after") is not None:
        headers["Retry-After"] = str(reply["retry_after"])
    message = reply.get("message") or f"scripted error {status}"
    body = {"error": {"message": message, "type": "scripted_error", "code": status}}
    return web.json_response(body, status=status, headers=headers)


def build_app(state: StandinState, *, allow_exit: bool = False) -> web.Application:
    """The aiohttp application serving the stand-in protocol."""
    app = web.Application()

    async def chat(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        messages = body.get("messages") or []
        model = body.get("model") or "stand-in"
        tag = find_tag(messages)
        state.record(tag, body)
        reply = state.next_reply(tag, model, messages)
        if reply.get("barrier"):
            broken = await state.meet(reply["barrier"])
            if broken:
                reply = {**reply, "content": broken, "tool_calls": None}
        if reply.get("delay"):
            await asyncio.sleep(float(reply["delay"]))  # cancelled when the client goes away
        if reply.get("error") is not None:
            return _error_response(reply)
        if not body.get("stream"):
            return web.json_response(_completion(reply, model, messages))
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                           "Cache-Control": "no-cache"})
        await resp.prepare(request)
        for item in _chunks(reply, model, messages):
            await resp.write(f"data: {json.dumps(item)}\n\n".encode())
            if reply.get("chunk_delay"):
                await asyncio.sleep(float(reply["chunk_delay"]))
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp

    async def models(_request: web.Request) -> web.Response:
        if not state.healthy:
            return web.json_response({"error": {"message": "unhealthy"}}, status=503)
        data = [{"id": m, "object": "model", "owned_by": "stand-in", "created": 0}
                for m in ("openai/gpt-oss-120b", "openai/gpt-oss-20b")]
        return web.json_response({"object": "list", "data": data})

    async def health(_request: web.Request) -> web.Response:
        return web.json_response({"ok": state.healthy}, status=200 if state.healthy else 503)

    async def control_script(request: web.Request) -> web.Response:
        body = await request.json()
        try:
            state.script(body["tag"], body.get("replies") or [], by=body.get("by") or "count")
        except ValueError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response({"ok": True})

    async def control_requests(request: web.Request) -> web.Response:
        return web.json_response(state.recorded(request.query.get("tag")))

    async def control_barriers(_request: web.Request) -> web.Response:
        return web.json_response(state.arrivals)

    async def control_reset(_request: web.Request) -> web.Response:
        state.reset()
        return web.json_response({"ok": True})

    async def control_health(request: web.Request) -> web.Response:
        state.healthy = bool((await request.json()).get("healthy", True))
        return web.json_response({"ok": True})

    async def control_exit(request: web.Request) -> web.Response:
        if not allow_exit:
            return web.json_response({"error": "exit only in a subprocess"}, status=400)
        code = int((await request.json()).get("code", 1))
        asyncio.get_running_loop().call_later(0.05, os._exit, code)
        return web.json_response({"ok": True})

    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_get("/v1/models", models)
    app.router.add_get("/health", health)
    app.router.add_post("/_control/script", control_script)
    app.router.add_get("/_control/requests", control_requests)
    app.router.add_get("/_control/barriers", control_barriers)
    app.router.add_post("/_control/reset", control_reset)
    app.router.add_post("/_control/health", control_health)
    app.router.add_post("/_control/exit", control_exit)
    return app


async def _serve(app: web.Application, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ScriptedModelServer:
    """The stand-in on its own event loop in a daemon thread (or a handle to a remote one)."""

    def __init__(self, port: int | None = None, host: str = "127.0.0.1") -> None:
        self.host, self.port = host, port or _free_port()
        self.state = StandinState()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The OpenAI base URL (…/v1)."""
        return f"{self.base}/v1"

    def start(self) -> ScriptedModelServer:
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._runner = self._loop.run_until_complete(
                _serve(build_app(self.state), self.host, self.port))
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True, name="openai-standin")
        self._thread.start()
        if not ready.wait(15):
            raise TimeoutError("stand-in did not start")
        return self

    def stop(self) -> None:
        if self._loop and self._runner:
            fut = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop)
            fut.result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            if self._thread:
                self._thread.join(10)
        self._loop = self._runner = None

    # The scripting API works over HTTP, so it drives a subprocess server just the same.
    def script(self, tag: str, replies: list[dict[str, Any]], by: str = "count") -> None:
        """Script TAG: replies in request order (`by="count"`) or by turn (`by="turn"`)."""
        httpx.post(f"{self.base}/_control/script",
                   json={"tag": tag, "replies": replies, "by": by},
                   timeout=10).raise_for_status()

    def requests(self, tag: str | None = None) -> list[dict[str, Any]]:
        params = {"tag": tag} if tag is not None else {}
        resp = httpx.get(f"{self.base}/_control/requests", params=params, timeout=10)
        resp.raise_for_status()
        return resp.json()

    def barriers(self) -> dict[str, int]:
        """Requests arrived so far at each barrier."""
        resp = httpx.get(f"{self.base}/_control/barriers", timeout=10)
        resp.raise_for_status()
        return resp.json()

    def reset(self) -> None:
        httpx.post(f"{self.base}/_control/reset", timeout=10).raise_for_status()

    def set_healthy(self, healthy: bool) -> None:
        httpx.post(f"{self.base}/_control/health", json={"healthy": healthy},
                   timeout=10).raise_for_status()


class RemoteModelServer(ScriptedModelServer):
    """Scripting handle for a stand-in running elsewhere (e.g. started by a provider)."""

    def start(self) -> RemoteModelServer:  # pragma: no cover - nothing to start
        return self

    def stop(self) -> None:
        return None

    def exit(self, code: int = 1) -> None:
        """Make the subprocess die as if it crashed."""
        try:
            httpx.post(f"{self.base}/_control/exit", json={"code": code}, timeout=5)
        except httpx.HTTPError:
            pass


def main() -> None:
    parser = argparse.ArgumentParser(description="Scripted OpenAI-compatible stand-in")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8001")))
    parser.add_argument("--startup-delay", type=float, default=0.0,
                        help="seconds to wait before listening (a slow-starting model)")
    args = parser.parse_args()
    if args.startup_delay:
        time.sleep(args.startup_delay)
    web.run_app(build_app(StandinState(), allow_exit=True), host=args.host, port=args.port,
                handler_cancellation=True, access_log=None, print=None)


if __name__ == "__main__":
    main()
