"""Model calls the agent makes: `chat`, `stream_chat`, `resolve_model`.

A process-wide registry (built at app start by `configure`, or lazily from the
settings) holds one ModelClient per configured endpoint, so the functions work
inside requests and inside durable steps alike. Before each call the endpoint
manager makes sure the endpoint is awake (waking it and waiting when asleep); when
the requested model cannot be had, the call falls back to the other one and the
result says which model answered.
"""

# ruff: noqa: ASYNC109 - a per-call `timeout=` in seconds is part of the interface

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from crazy_gary import runtime
from crazy_gary.config import MODEL_KEYS, Settings
from crazy_gary.endpoints import service as endpoints
from crazy_gary.errors import EndpointUnavailable
from crazy_gary.llm.clients import ModelCallFailed, ModelClient
from crazy_gary.llm.models import normalise
from crazy_gary.llm.names import ModelName
from crazy_gary.llm.types import ChatChunk, ChatResult, ToolCall, Usage
from crazy_gary.observability.metrics import MODEL_CALL_LATENCY, MODEL_TOKENS

__all__ = ["ChatChunk", "ChatResult", "ToolCall", "Usage", "EndpointUnavailable", "chat",
           "stream_chat", "resolve_model", "model_names", "ModelService"]

log = logging.getLogger(__name__)

OnWait = Callable[[str], Awaitable[None]]
KEY_TO_NAME = {model.key: model.value for model in ModelName}


def model_names() -> list[str]:
    """The model names users may send."""
    return list(ModelName)


def resolve_model(name: str) -> str:
    """The endpoint key ("120b"/"20b") of a user-facing model name, or 400 VALIDATION_ERROR."""
    return normalise(name).key


class ModelService:
    """One client per endpoint (built from the settings) and the endpoint manager to wake them."""

    def __init__(self, settings: Settings, manager: endpoints.EndpointManager) -> None:
        self.settings = settings
        self.manager = manager
        self._clients: dict[tuple[str, str], ModelClient] = {}

    def client(self, key: str, base_url: str) -> ModelClient:
        cached = self._clients.get((key, base_url))
        if cached is None:
            s = self.settings
            cached = ModelClient(name=KEY_TO_NAME[key], model_id=s.model_setting(key, "name"),
                                 base_url=base_url, api_key=s.model_api_key,
                                 timeout=s.model_call_timeout_seconds,
                                 max_retries=s.model_max_retries,
                                 backoff=s.model_retry_backoff_seconds)
            self._clients[(key, base_url)] = cached
        return cached

    async def close(self) -> None:
        """Close the clients' connections (on the loop the runtime stops on)."""
        for client in self._clients.values():
            await client.close()

    async def _prepare(self, key: str, on_wait: OnWait | None) -> ModelClient:
        base_url = await self.manager.ensure_ready(key, on_wait=on_wait)
        await self.manager.touch(key)
        return self.client(key, base_url)

    async def chat(self, model: str, messages: list[dict[str, Any]], *,
                   tools: list[dict[str, Any]] | None = None, allow_fallback: bool = True,
                   on_wait: OnWait | None = None, timeout: float | None = None) -> ChatResult:
        """Ask a model; wakes its endpoint on demand and may fall back to the other model."""
        requested = resolve_model(model)
        failures: list[str] = []
        for key in _candidates(requested, allow_fallback):
            started = time.monotonic()
            try:
                client = await self._prepare(key, on_wait)
                result = await client.complete(messages, tools=tools, timeout=timeout)
            except EndpointUnavailable as exc:
                MODEL_CALL_LATENCY.labels(model=key, outcome="error").observe(
                    time.monotonic() - started)
                await self.manager.record_call(
                    key, ok=False, latency_ms=0, error=exc.message,
                    reachable=isinstance(exc, ModelCallFailed) and not exc.retryable)
                failures.append(f"{KEY_TO_NAME[key]}: {exc.message}")
                log.warning("model %s unavailable: %s", key, exc.message)
                continue
            await self.manager.record_call(key, ok=True, latency_ms=result.latency_ms)
            result.fell_back = key != requested
            _record(result, key)
            return result
        raise EndpointUnavailable("; ".join(failures) or "No model endpoint available",
                                  details={"model": model, "failures": failures})

    async def stream_chat(self, model: str, messages: list[dict[str, Any]], *,
                          tools: list[dict[str, Any]] | None = None, allow_fallback: bool = True,
                          on_wait: OnWait | None = None, timeout: float | None = None,
                          ) -> AsyncIterator[ChatChunk | ChatResult]:
        """Yield `ChatChunk`s as text arrives, then exactly one final `ChatResult`.

        Fallback happens only before the first chunk reached the caller.
        """
        requested = resolve_model(model)
        failures: list[str] = []
        for key in _candidates(requested, allow_fallback):
            emitted = False
            try:
                client = await self._prepare(key, on_wait)
                async for item in client.stream(messages, tools=tools, timeout=timeout):
                    if isinstance(item, ChatResult):
                        item.fell_back = key != requested
                        await self.manager.record_call(key, ok=True,
                                                       latency_ms=item.latency_ms)
                        _record(item, key)
                    emitted = True
                    yield item
                return
            except EndpointUnavailable as exc:
                await self.manager.record_call(
                    key, ok=False, latency_ms=0, error=exc.message,
                    reachable=isinstance(exc, ModelCallFailed) and not exc.retryable)
                if emitted:
                    raise
                failures.append(f"{KEY_TO_NAME[key]}: {exc.message}")
        raise EndpointUnavailable("; ".join(failures) or "No model endpoint available",
                                  details={"model": model, "failures": failures})


def registry() -> ModelService:
    """The running runtime's model service."""
    return runtime.current().models


def _candidates(key: str, allow_fallback: bool) -> list[str]:
    others = [k for k in MODEL_KEYS if k != key] if allow_fallback else []
    return [key, *others]


def _record(result: ChatResult, key: str) -> None:
    MODEL_CALL_LATENCY.labels(model=key, outcome="ok").observe(result.latency_ms / 1000)
    MODEL_TOKENS.labels(model=key, kind="prompt").inc(result.usage.prompt_tokens)
    MODEL_TOKENS.labels(model=key, kind="completion").inc(result.usage.completion_tokens)


async def chat(model: str, messages: list[dict[str, Any]], *,
               tools: list[dict[str, Any]] | None = None,
               allow_fallback: bool = True, on_wait: OnWait | None = None,
               timeout: float | None = None) -> ChatResult:
    """Ask a model; wakes its endpoint on demand and may fall back to the other model."""
    return await registry().chat(model, messages, tools=tools, allow_fallback=allow_fallback,
                                 on_wait=on_wait, timeout=timeout)


async def stream_chat(model: str, messages: list[dict[str, Any]], *,
                      tools: list[dict[str, Any]] | None = None, allow_fallback: bool = True,
                      on_wait: OnWait | None = None, timeout: float | None = None,
                      ) -> AsyncIterator[ChatChunk | ChatResult]:
    """Yield `ChatChunk`s as text arrives, then exactly one final `ChatResult`."""
    async for item in registry().stream_chat(model, messages, tools=tools,
                                             allow_fallback=allow_fallback, on_wait=on_wait,
                                             timeout=timeout):
        yield item
