"""The model stand-in answers a re-sent request the same way when scripted by turn."""

from __future__ import annotations

import httpx
import pytest

from tests.tasks.helpers import marker, tag


def ask(model_standin, script: str, *turns: str) -> str:
    """One chat request: the tagged task, then one assistant message per earlier turn."""
    messages = [{"role": "user", "content": f"task {marker(script)}"}]
    for earlier in turns:
        messages += [{"role": "assistant", "content": earlier},
                     {"role": "user", "content": "go on"}]
    resp = httpx.post(f"{model_standin.url}/chat/completions", timeout=10,
                      json={"model": "openai/gpt-oss-20b", "messages": messages})
    resp.raise_for_status()
    return resp.json()["choices"][0]["message"]["content"]


def test_by_count_answers_the_next_reply_for_every_request(model_standin):
    script = tag("count")
    model_standin.script(script, [{"content": "a"}, {"content": "b"}])
    assert [ask(model_standin, script) for _ in range(3)] == ["a", "b", "b"]


def test_by_turn_answers_a_repeated_request_with_the_same_reply(model_standin):
    script = tag("turn")
    model_standin.script(script, [{"content": "a"}, {"content": "b"}, {"content": "c"}],
                         by="turn")
    assert ask(model_standin, script) == "a"
    assert ask(model_standin, script) == "a"  # sent again: same turn, same reply
    assert ask(model_standin, script, "a") == "b"
    assert ask(model_standin, script, "a", "b") == "c"
    assert ask(model_standin, script, "a", "b") == "c"
    assert ask(model_standin, script, "a", "b", "c") == "c"  # the last reply repeats
    assert len(model_standin.requests(script)) == 6


def test_an_unknown_mode_is_refused(model_standin):
    with pytest.raises(httpx.HTTPStatusError):
        model_standin.script(tag("bad"), [{"content": "a"}], by="content")
