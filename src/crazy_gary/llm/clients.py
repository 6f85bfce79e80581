"""One OpenAI-compatible endpoint spoken to over aiohttp, with our own retry policy.

The chat-completions wire protocol is small (a JSON POST, or server-sent `data:` lines
when streaming), so it is spoken here directly rather than through the openai SDK, whose
request transforms and response models cost several milliseconds of CPU per call; and
over aiohttp rather than httpx, whose connection pool scans every connection on each
request (a thousand calls in flight hold a thousand connections). docs/endpoints.md has
the measurements. Retries: 429, 408, 5xx, timeouts and connection errors, with
exponential backoff, honouring `Retry-After`; EndpointUnavailable once the budget is
spent. Cancelling the awaiting task aborts the HTTP request.
"""

# ruff: noqa: ASYNC109 - a per-call `timeout=` in seconds is part of the interface

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import aiohttp

from crazy_gary.durable import check_membership
from crazy_gary.errors import EndpointUnavailable
from crazy_gary.llm.types import ChatChunk, ChatResult, ToolCall, Usage
from crazy_gary.observability.http import model_call_span

Result = TypeVar("Result")
log = logging.getLogger(__name__)

MAX_RETRY_AFTER_SECONDS = 60.0
RETRYABLE_STATUSES = frozenset({408, 429})
# below the 5 s keep-alive of common servers (uvicorn), so no request goes out on a
# connection the server is closing
KEEPALIVE_SECONDS = 4.0


class ModelCallFailed(EndpointUnavailable):
    """The endpoint could not answer within the retry budget (code ENDPOINT_UNAVAILABLE)."""

    def __init__(self, message: str, *, model: str, status: int | None = None,
                 retryable: bool = True) -> None:
        super().__init__(message, details={"model": model, "upstream_status": status})
        self.retryable = retryable


class UpstreamStatusError(Exception):
    """The endpoint answered with an HTTP error status."""

    def __init__(self, response: aiohttp.ClientResponse, body: str) -> None:
        super().__init__(f"Error code: {response.status} - {body[:1000]}")
        self.response, self.status_code = response, response.status


class MalformedAnswer(Exception):
    """The endpoint answered 2xx with something that is not a chat completion."""


def retry_after_seconds(exc: Exception) -> float | None:
    """The server's `Retry-After` (seconds or HTTP date), when it sent one."""
    response = getattr(exc, "response", None)
    if response is None:
        return None
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def is_retryable(exc: Exception) -> bool:
    if isinstance(exc, UpstreamStatusError):
        return exc.status_code in RETRYABLE_STATUSES or exc.status_code >= 500
    return isinstance(exc, (aiohttp.ClientError, TimeoutError))


def _reasoning_of(obj: dict[str, Any]) -> str | None:
    value = obj.get("reasoning_content") or obj.get("reasoning")
    return value if isinstance(value, str) and value else None


def _usage_of(data: Any) -> Usage:
    if not isinstance(data, dict):
        return Usage()
    return Usage(int(data.get("prompt_tokens") or 0), int(data.get("completion_tokens") or 0),
                 int(data.get("total_tokens") or 0))


def _tool_calls_of(message: dict[str, Any]) -> list[ToolCall]:
    calls = []
    for i, call in enumerate(message.get("tool_calls") or []):
        function = call.get("function") or {}
        if call.get("type", "function") == "function" and function.get("name"):
            calls.append(ToolCall(id=call.get("id") or f"call_{i}", name=function["name"],
                                  arguments=function.get("arguments") or ""))
    return calls


def _json_object(text: str | bytes) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise MalformedAnswer(f"the answer is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise MalformedAnswer("the answer is not a JSON object")
    if isinstance(data.get("error"), dict):  # an error reported inside a 2xx answer
        raise MalformedAnswer(str(data["error"].get("message") or data["error"])[:1000])
    return data


async def _sse_data(response: aiohttp.ClientResponse) -> AsyncIterator[str]:
    """The `data:` payloads of a server-sent event stream, however the bytes arrive (no
    line-length limit: one chunk can carry a long tool-call argument)."""
    pending = b""
    async for data in response.content.iter_any():
        pending += data
        *lines, pending = pending.split(b"\n")
        for line in lines:
            if line.startswith(b"data:"):  # comments, event names, blank separators skipped
                yield line[5:].strip().decode(errors="replace")
    if pending.startswith(b"data:"):
        yield pending[5:].strip().decode(errors="replace")


class ModelClient:
    """Chat completions against one base URL; one pooled aiohttp session per event loop."""

    def __init__(self, *, name: str, model_id: str, base_url: str, api_key: str | None,
                 timeout: float = 120.0, max_retries: int = 3, backoff: float = 0.5) -> None:
        self.name, self.model_id, self.base_url = name, model_id, base_url.rstrip("/")
        self.url = self.base_url + "/chat/completions"
        self.api_key, self.timeout = api_key or "not-needed", timeout
        self.max_retries, self.backoff = max_retries, backoff
        self._sessions: dict[asyncio.AbstractEventLoop, aiohttp.ClientSession] = {}

    def _http(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        session = self._sessions.get(loop)
        if session is None or session.closed:
            session = aiohttp.ClientSession(
                headers={"Authorization": f"Bearer {self.api_key}",
                         "Content-Type": "application/json", "Accept": "application/json"},
                connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=KEEPALIVE_SECONDS),
                auto_decompress=True)
            self._sessions[loop] = session
        return session

    async def close(self) -> None:
        """Close this event loop's session (the others belong to loops that are gone)."""
        session = self._sessions.pop(asyncio.get_running_loop(), None)
        if session is not None:
            await session.close()

    def _body(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None,
              stream: bool) -> bytes:
        body: dict[str, Any] = {"model": self.model_id, "messages": messages}
        if tools:
            body["tools"] = tools
        if stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        return json.dumps(body).encode()

    async def _send(self, body: bytes, timeout: float) -> aiohttp.ClientResponse:
        """POST the request; an error status is raised (its body read, the response released).
        `timeout` bounds connecting and each read, as the calls before it did."""
        with model_call_span(self.url, "POST", self.model_id) as span:
            response = await self._http().post(self.url, data=body, timeout=aiohttp.ClientTimeout(
                total=None, sock_connect=timeout, sock_read=timeout))
            if span is not None:
                span.set_attribute("http.response.status_code", response.status)
            if response.status >= 400:
                try:
                    text = (await response.read()).decode(errors="replace")
                finally:
                    response.release()
                raise UpstreamStatusError(response, text)
            return response

    async def _with_retries(self, attempt_fn: Callable[[float], Awaitable[Result]],
                            timeout: float | None) -> Result:
        last: Exception | None = None
        for attempt in range(self.max_retries + 1):
            await check_membership()  # a process declared dead sends nothing
            try:
                return await attempt_fn(timeout or self.timeout)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - classified below
                last = exc
                if not is_retryable(exc):
                    status = getattr(exc, "status_code", None)
                    what = ("returned a malformed answer" if isinstance(exc, MalformedAnswer)
                            else "rejected the request")
                    raise ModelCallFailed(f"{self.name} {what}: {exc}", model=self.name,
                                          status=status, retryable=False) from exc
                if attempt >= self.max_retries:
                    break
                wait = retry_after_seconds(exc)
                if wait is None:
                    wait = self.backoff * (2 ** attempt) * (1 + random.random() * 0.25)
                wait = min(wait, MAX_RETRY_AFTER_SECONDS)
                log.info("model %s call failed (%s); retry %d in %.2fs", self.name,
                         type(exc).__name__, attempt + 1, wait)
                await asyncio.sleep(wait)
        status = getattr(last, "status_code", None)
        raise ModelCallFailed(
            f"{self.name} endpoint unavailable after {self.max_retries + 1} attempts: {last}",
            model=self.name, status=status) from last

    async def complete(self, messages: list[dict[str, Any]], *,
                       tools: list[dict[str, Any]] | None = None,
                       timeout: float | None = None) -> ChatResult:
        """One non-streaming chat completion (retried); `model` is set by the caller."""
        started = time.monotonic()

        body = self._body(messages, tools, False)

        async def attempt(t: float) -> tuple[dict[str, Any], dict[str, Any]]:
            response = await self._send(body, t)
            try:
                data = _json_object(await response.read())
            finally:
                response.release()
            choices = data.get("choices")
            if not choices or not isinstance(choices[0], dict) \
                    or not isinstance(choices[0].get("message"), dict):
                raise MalformedAnswer("the answer has no choices[0].message")
            return data, choices[0]

        data, choice = await self._with_retries(attempt, timeout)
        message = choice["message"]
        return ChatResult(
            content=message.get("content"), reasoning=_reasoning_of(message),
            tool_calls=_tool_calls_of(message), usage=_usage_of(data.get("usage")),
            model=self.name, finish_reason=choice.get("finish_reason"),
            latency_ms=(time.monotonic() - started) * 1000)

    async def stream(self, messages: list[dict[str, Any]], *,
                     tools: list[dict[str, Any]] | None = None,
                     timeout: float | None = None) -> AsyncIterator[ChatChunk | ChatResult]:
        """Yield ChatChunk deltas, then the assembled ChatResult last.

        Only opening the stream is retried: once text has reached the caller a
        failure is raised rather than replayed.
        """
        started = time.monotonic()

        body = self._body(messages, tools, True)

        async def attempt(t: float) -> aiohttp.ClientResponse:
            return await self._send(body, t)

        response = await self._with_retries(attempt, timeout)
        content: list[str] = []
        reasoning: list[str] = []
        calls: dict[int, dict[str, str]] = {}
        usage = Usage()
        finish = None
        try:
            async for payload in _sse_data(response):
                if payload == "[DONE]":
                    break
                chunk = _json_object(payload)
                if chunk.get("usage"):
                    usage = _usage_of(chunk["usage"])
                for choice in chunk.get("choices") or []:
                    delta = choice.get("delta") or {}
                    finish = choice.get("finish_reason") or finish
                    think = _reasoning_of(delta)
                    if think:
                        reasoning.append(think)
                        yield ChatChunk(reasoning=think)
                    if delta.get("content"):
                        content.append(delta["content"])
                        yield ChatChunk(delta=delta["content"])
                    for tc in delta.get("tool_calls") or []:
                        slot = calls.setdefault(int(tc.get("index") or 0),
                                                {"id": "", "name": "", "arguments": ""})
                        function = tc.get("function") or {}
                        if tc.get("id"):
                            slot["id"] = tc["id"]
                        if function.get("name"):
                            slot["name"] = function["name"]
                        if function.get("arguments"):
                            slot["arguments"] += function["arguments"]
        except (MalformedAnswer, aiohttp.ClientError, TimeoutError) as exc:
            raise ModelCallFailed(f"{self.name} stream broke: {exc}", model=self.name) from exc
        finally:
            response.release()
        yield ChatResult(
            content="".join(content) if content or not calls else None,
            reasoning="".join(reasoning) or None,
            tool_calls=[ToolCall(id=c["id"] or f"call_{i}", name=c["name"],
                                 arguments=c["arguments"]) for i, c in sorted(calls.items())],
            usage=usage, model=self.name, finish_reason=finish,
            latency_ms=(time.monotonic() - started) * 1000)
