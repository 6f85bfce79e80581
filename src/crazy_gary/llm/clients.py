"""One OpenAI-compatible endpoint behind the openai SDK, with our own retry policy.

The SDK's retries are switched off so the policy is ours: retry 429, 5xx, timeouts
and connection errors with exponential backoff, honouring `Retry-After`, and raise
EndpointUnavailable once the budget is spent. Cancelling the awaiting task aborts
the HTTP request (httpx is cancellation-safe).
"""

# ruff: noqa: ASYNC109 - a per-call `timeout=` in seconds is part of the interface

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx
import openai
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from crazy_gary.durable import check_membership
from crazy_gary.errors import EndpointUnavailable
from crazy_gary.llm.types import ChatChunk, ChatResult, ToolCall, Usage

Result = TypeVar("Result")
log = logging.getLogger(__name__)

MAX_RETRY_AFTER_SECONDS = 60.0


class ModelCallFailed(EndpointUnavailable):
    """The endpoint could not answer within the retry budget (code ENDPOINT_UNAVAILABLE)."""

    def __init__(self, message: str, *, model: str, status: int | None = None,
                 retryable: bool = True) -> None:
        super().__init__(message, details={"model": model, "upstream_status": status})
        self.retryable = retryable


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
    if isinstance(exc, (openai.APIConnectionError, openai.APITimeoutError)):
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code == 429 or exc.status_code >= 500 or exc.status_code == 408
    return isinstance(exc, httpx.TransportError)


def _reasoning_of(obj: Any) -> str | None:
    extra = getattr(obj, "model_extra", None) or {}
    value = extra.get("reasoning_content") or extra.get("reasoning")
    return value if isinstance(value, str) and value else None


class ModelClient:
    """Chat completions against one base URL; a fresh SDK client per event loop."""

    def __init__(self, *, name: str, model_id: str, base_url: str, api_key: str | None,
                 timeout: float = 120.0, max_retries: int = 3, backoff: float = 0.5) -> None:
        self.name, self.model_id, self.base_url = name, model_id, base_url.rstrip("/")
        self.api_key, self.timeout = api_key or "not-needed", timeout
        self.max_retries, self.backoff = max_retries, backoff
        self._clients: dict[int, openai.AsyncOpenAI] = {}

    def _sdk(self) -> openai.AsyncOpenAI:
        loop_id = id(asyncio.get_running_loop())
        client = self._clients.get(loop_id)
        if client is None:
            client = openai.AsyncOpenAI(base_url=self.base_url, api_key=self.api_key,
                                        max_retries=0, timeout=self.timeout)
            self._clients[loop_id] = client
        return client

    def _request(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None,
                 stream: bool) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"model": self.model_id, "messages": messages}
        if tools:
            kwargs["tools"] = tools
        if stream:
            kwargs["stream"] = True
            kwargs["stream_options"] = {"include_usage": True}
        return kwargs

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
                    raise ModelCallFailed(f"{self.name} rejected the request: {exc}",
                                          model=self.name, status=status,
                                          retryable=False) from exc
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

        async def attempt(t: float) -> ChatCompletion:
            # Keyword arguments from a dict leave the SDK's overloads undecided (Any).
            response: ChatCompletion = await self._sdk().chat.completions.create(
                **self._request(messages, tools, False), timeout=t)
            return response

        response = await self._with_retries(attempt, timeout)
        choice = response.choices[0]
        msg = choice.message
        calls = [ToolCall(id=c.id or f"call_{i}", name=c.function.name,
                          arguments=c.function.arguments or "")
                 for i, c in enumerate(msg.tool_calls or []) if c.type == "function"]
        usage = response.usage
        return ChatResult(
            content=msg.content, reasoning=_reasoning_of(msg), tool_calls=calls,
            usage=Usage(usage.prompt_tokens, usage.completion_tokens, usage.total_tokens)
            if usage else Usage(),
            model=self.name, finish_reason=choice.finish_reason,
            latency_ms=(time.monotonic() - started) * 1000)

    async def stream(self, messages: list[dict[str, Any]], *,
                     tools: list[dict[str, Any]] | None = None,
                     timeout: float | None = None) -> AsyncIterator[ChatChunk | ChatResult]:
        """Yield ChatChunk deltas, then the assembled ChatResult last.

        Only opening the stream is retried: once text has reached the caller a
        failure is raised rather than replayed.
        """
        started = time.monotonic()

        async def attempt(t: float) -> openai.AsyncStream[ChatCompletionChunk]:
            chunks: openai.AsyncStream[ChatCompletionChunk] = (
                await self._sdk().chat.completions.create(
                    **self._request(messages, tools, True), timeout=t))
            return chunks

        stream = await self._with_retries(attempt, timeout)
        content: list[str] = []
        reasoning: list[str] = []
        calls: dict[int, dict[str, str]] = {}
        usage = Usage()
        finish = None
        try:
            async for chunk in stream:
                if chunk.usage:
                    usage = Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens,
                                  chunk.usage.total_tokens)
                for choice in chunk.choices:
                    delta = choice.delta
                    finish = choice.finish_reason or finish
                    think = _reasoning_of(delta)
                    if think:
                        reasoning.append(think)
                        yield ChatChunk(reasoning=think)
                    if delta.content:
                        content.append(delta.content)
                        yield ChatChunk(delta=delta.content)
                    for tc in delta.tool_calls or []:
                        slot = calls.setdefault(tc.index, {"id": "", "name": "", "arguments": ""})
                        if tc.id:
                            slot["id"] = tc.id
                        if tc.function and tc.function.name:
                            slot["name"] = tc.function.name
                        if tc.function and tc.function.arguments:
                            slot["arguments"] += tc.function.arguments
        except (openai.APIError, httpx.HTTPError) as exc:
            raise ModelCallFailed(f"{self.name} stream broke: {exc}", model=self.name) from exc
        finally:
            await stream.close()
        yield ChatResult(
            content="".join(content) if content or not calls else None,
            reasoning="".join(reasoning) or None,
            tool_calls=[ToolCall(id=c["id"] or f"call_{i}", name=c["name"],
                                 arguments=c["arguments"]) for i, c in sorted(calls.items())],
            usage=usage, model=self.name, finish_reason=finish,
            latency_ms=(time.monotonic() - started) * 1000)
