"""Model calls through the real service against the scripted stand-in."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from crazy_gary.errors import EndpointUnavailable, ValidationFailed
from crazy_gary.llm import service as llm
from crazy_gary.llm.types import ChatChunk, ChatResult


def ask(tag: str, text: str = "hello") -> list[dict]:
    return [{"role": "system", "content": "You are Gary."},
            {"role": "user", "content": f"[[script:{tag}]] {text}"}]


async def test_plain_answer_keeps_reasoning_apart_and_counts_tokens(server, model_standin):
    model_standin.script("plain", [{"content": "Paris.", "reasoning": "capital of France",
                                    "usage": {"prompt_tokens": 12, "completion_tokens": 3}}])
    result = server.run_coro(llm.chat("gpt-oss-120b", ask("plain", "capital?")))
    assert result.content == "Paris."
    assert result.reasoning == "capital of France"
    assert (result.usage.prompt_tokens, result.usage.completion_tokens,
            result.usage.total_tokens) == (12, 3, 15)
    assert result.model == "gpt-oss-120b" and not result.fell_back
    sent = model_standin.requests("plain")[-1]
    assert sent["model"] == "openai/gpt-oss-120b"


async def test_tool_calls_come_back_raw_and_result_round_trips(server, model_standin):
    model_standin.script("tools", [{"tool_calls": [
        {"name": "search", "arguments": {"q": "weather"}},
        {"name": "broken", "arguments": "{not json"}]}])
    tools = [{"type": "function", "function": {
        "name": "search", "description": "Search", "parameters": {
            "type": "object", "properties": {"q": {"type": "string"}}}}}]
    result = server.run_coro(llm.chat("gpt-oss-20b", ask("tools"), tools=tools))
    assert [c.name for c in result.tool_calls] == ["search", "broken"]
    assert json.loads(result.tool_calls[0].arguments) == {"q": "weather"}
    assert result.tool_calls[1].arguments == "{not json"
    assert result.finish_reason == "tool_calls"
    assert model_standin.requests("tools")[-1]["tools"] == tools
    again = ChatResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again == result
    assert again.assistant_message()["tool_calls"][0]["function"]["name"] == "search"


async def test_streaming_yields_text_then_one_final_result(server, model_standin):
    model_standin.script("stream", [{"content": "A fairly long streamed answer.",
                                     "reasoning": "think first",
                                     "usage": {"prompt_tokens": 7, "completion_tokens": 6}}])

    async def collect():
        return [item async for item in llm.stream_chat("gpt-oss-120b", ask("stream"))]

    items = server.run_coro(collect())
    chunks, final = items[:-1], items[-1]
    assert all(isinstance(c, ChatChunk) for c in chunks)
    assert "".join(c.delta for c in chunks) == "A fairly long streamed answer."
    assert "".join(c.reasoning for c in chunks) == "think first"
    assert isinstance(final, ChatResult)
    assert final.content == "A fairly long streamed answer."
    assert final.usage.total_tokens == 13
    assert model_standin.requests("stream")[-1]["stream"] is True


async def test_unknown_model_name_is_rejected_with_the_allowed_names(server):
    with pytest.raises(ValidationFailed) as info:
        llm.resolve_model("gpt-4")
    assert info.value.status_code == 400
    assert "gpt-oss-120b" in info.value.message and "gpt-oss-20b" in info.value.message
    assert llm.resolve_model("gpt-oss-20b") == "20b"


async def test_retries_honour_retry_after_then_succeed(server, model_standin):
    model_standin.script("retry", [{"error": 429, "retry_after": 1},
                                   {"error": 503},
                                   {"content": "finally"}])
    started = time.monotonic()
    result = server.run_coro(llm.chat("gpt-oss-120b", ask("retry"), allow_fallback=False))
    assert result.content == "finally"
    assert len(model_standin.requests("retry")) == 3
    assert time.monotonic() - started >= 1.0  # waited at least what Retry-After asked


async def test_retry_budget_spent_raises_endpoint_unavailable(server, model_standin):
    model_standin.script("down", [{"error": 500, "message": "boom"}])
    with pytest.raises(EndpointUnavailable) as info:
        server.run_coro(llm.chat("gpt-oss-20b", ask("down"), allow_fallback=False))
    assert info.value.code == "ENDPOINT_UNAVAILABLE"
    assert len(model_standin.requests("down")) == 4  # first try + MODEL_MAX_RETRIES (3)


async def test_fallback_from_120b_to_20b_records_the_answering_model(server, model_standin):
    model_standin.script("fb@openai/gpt-oss-120b", [{"error": 503}])
    model_standin.script("fb", [{"content": "small model here"}])
    result = server.run_coro(llm.chat("gpt-oss-120b", ask("fb")))
    assert result.content == "small model here"
    assert result.model == "gpt-oss-20b" and result.fell_back
    models = [r["model"] for r in model_standin.requests("fb")]
    assert models.count("openai/gpt-oss-120b") == 4 and models[-1] == "openai/gpt-oss-20b"


async def test_cancelling_a_call_aborts_the_request(server, model_standin):
    model_standin.script("slow", [{"content": "late", "delay": 30}])

    async def cancel_soon():
        task = asyncio.ensure_future(llm.chat("gpt-oss-120b", ask("slow")))
        await asyncio.sleep(0.5)
        task.cancel()
        started = time.monotonic()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic() - started

    assert server.run_coro(cancel_soon()) < 5
    assert len(model_standin.requests("slow")) == 1


async def test_stream_falls_back_before_the_first_chunk(server, model_standin):
    model_standin.script("sfb@openai/gpt-oss-20b", [{"error": 502}])
    model_standin.script("sfb", [{"content": "big model streams"}])

    async def collect():
        return [item async for item in llm.stream_chat("gpt-oss-20b", ask("sfb"))]

    final = server.run_coro(collect())[-1]
    assert final.content == "big model streams"
    assert final.model == "gpt-oss-120b" and final.fell_back


async def test_no_wait_reported_when_the_endpoint_is_up(server, model_standin):
    reasons: list[str] = []

    async def on_wait(reason: str) -> None:
        reasons.append(reason)

    server.run_coro(llm.chat("gpt-oss-20b", ask("nowait"), on_wait=on_wait))
    assert reasons == []
