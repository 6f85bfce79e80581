"""Hugging Face Inference Endpoints driven through huggingface_hub against the emulator."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from crazy_gary.errors import Conflict, EndpointUnavailable
from tests.endpoints.helpers import events_named, last_event_id, wait_status


def ask(tag: str) -> list[dict]:
    return [{"role": "user", "content": f"[[script:{tag}]] hi"}]


@pytest.fixture
def hf_endpoint(hf, model_standin):
    """A paused emulated endpoint whose model URL is the OpenAI stand-in."""
    name = f"gpt-oss-120b-{uuid.uuid4().hex[:6]}"
    hf.add("gary", name, url=model_standin.base, pending_seconds=0.2, initializing_seconds=0.3)
    return name


def hf_env(hf, name: str, **extra) -> dict:
    return {"MODEL_120B_HF_ENDPOINT": f"gary/{name}", "HF_ENDPOINTS_API_URL": hf.api_url,
            **extra}


async def test_wake_then_sleep_a_paused_endpoint(server, hf, hf_endpoint, lifecycle):
    manager, _ = lifecycle(**hf_env(hf, hf_endpoint))

    async def scenario():
        first = await last_event_id()
        before = await manager.status_one("120b")
        assert before["status"] == "sleeping" and before["auto_sleep_in"] is None
        assert await manager.wake("120b") is True
        running = await wait_status(manager, "120b", "running")
        assert running["url"].startswith("http://127.0.0.1")
        assert running["wake_time"] and running["last_activity"]
        assert 0 < running["auto_sleep_in"] <= 900
        assert await manager.sleep("120b") is True
        asleep = await wait_status(manager, "120b", "sleeping")
        assert asleep["sleep_time"] and asleep["auto_sleep_in"] is None
        return [e["status"] for e in await events_named("endpoint_status", first)
                if e["model_type"] == "120b"]

    statuses = server.run_coro(scenario())
    assert hf.state("gary", hf_endpoint) == "paused"
    assert len(hf.calls_to("resume")) >= 1 and len(hf.calls_to("pause")) >= 1
    assert all(c["authorization"] == "Bearer test-hf-key" for c in hf.calls)
    assert statuses[:1] == ["waking"] and "running" in statuses and statuses[-1] == "sleeping"


async def test_concurrent_wakes_resume_once(server, hf, hf_endpoint, lifecycle):
    manager, _ = lifecycle(**hf_env(hf, hf_endpoint))
    resumes_before = len([c for c in hf.calls_to("resume") if c["name"] == hf_endpoint])

    async def scenario():
        started = await asyncio.gather(*(manager.wake("120b") for _ in range(6)))
        await wait_status(manager, "120b", "running")
        return started

    started = server.run_coro(scenario())
    assert started.count(True) == 1
    resumes = [c for c in hf.calls_to("resume") if c["name"] == hf_endpoint]
    assert len(resumes) - resumes_before == 1


async def test_a_call_waits_for_a_sleeping_endpoint_to_wake(server, hf, hf_endpoint, lifecycle,
                                                             model_standin):
    manager, models = lifecycle(**hf_env(hf, hf_endpoint))
    model_standin.script("wake-on-demand", [{"content": "awake now"}])
    reasons: list[str] = []

    async def on_wait(reason: str) -> None:
        reasons.append(reason)

    async def scenario():
        calls = [models.chat("gpt-oss-120b", ask("wake-on-demand"), on_wait=on_wait,
                             allow_fallback=False) for _ in range(3)]
        return await asyncio.gather(*calls)

    results = server.run_coro(scenario(), timeout=60)
    assert [r.content for r in results] == ["awake now"] * 3
    assert all(r.model == "gpt-oss-120b" and not r.fell_back for r in results)
    assert reasons and all(r.startswith("waiting_for_model") for r in reasons)
    assert len([c for c in hf.calls_to("resume") if c["name"] == hf_endpoint]) == 1
    assert hf.state("gary", hf_endpoint) == "running"


async def test_fallback_to_20b_when_120b_fails_to_wake(server, hf, hf_endpoint, lifecycle,
                                                       model_standin):
    hf.get("gary", hf_endpoint).fail_on_resume = True
    manager, models = lifecycle(**hf_env(hf, hf_endpoint, MODEL_20B_BASE_URL=model_standin.url))
    model_standin.script("fallback-wake", [{"content": "20b answering"}])

    result = server.run_coro(models.chat("gpt-oss-120b", ask("fallback-wake")), timeout=60)
    assert result.content == "20b answering"
    assert result.model == "gpt-oss-20b" and result.fell_back
    view = server.run_coro(manager.status_one("120b"))
    assert view["status"] == "failed" and "failed" in view["last_error"]
    assert model_standin.requests("fallback-wake")[-1]["model"] == "openai/gpt-oss-20b"


async def test_failed_endpoint_is_reported_then_recovers(server, hf, hf_endpoint, lifecycle,
                                                         model_standin):
    hf.set_state("gary", hf_endpoint, "running")
    manager, models = lifecycle(**hf_env(hf, hf_endpoint))
    model_standin.script("recover", [{"content": "back again"}])

    async def scenario():
        await wait_status(manager, "120b", "running")
        first = await last_event_id()
        hf.set_state("gary", hf_endpoint, "failed")
        failed = await wait_status(manager, "120b", "failed")
        alerts = [e for e in await events_named("endpoint_status", first)
                  if e["status"] == "failed"]
        # The next call wakes (resumes) the failed endpoint and gets its answer.
        result = await models.chat("gpt-oss-120b", ask("recover"), allow_fallback=False)
        return failed, alerts, result, manager.view(await manager.refresh("120b", max_age=0))

    failed, alerts, result, after = server.run_coro(scenario(), timeout=60)
    assert failed["last_error"] and alerts
    assert result.content == "back again"
    assert after["status"] == "running" and after["last_error"] is None


async def test_hf_api_outage_marks_unreachable_and_call_fails_clearly(server, hf, hf_endpoint,
                                                                      lifecycle):
    hf.get("gary", hf_endpoint).api_error = 503
    manager, models = lifecycle(**hf_env(hf, hf_endpoint, ENDPOINT_WAKE_TIMEOUT_SECONDS="1"))

    view = server.run_coro(manager.status_one("120b"))
    assert view["status"] == "unreachable" and "HF API" in view["last_error"]
    with pytest.raises(EndpointUnavailable) as info:
        server.run_coro(models.chat("gpt-oss-120b", ask("x"), allow_fallback=False), timeout=60)
    assert info.value.code == "ENDPOINT_UNAVAILABLE"
    assert manager.stats.error_rate() > 0
    hf.get("gary", hf_endpoint).api_error = None


async def test_bare_url_endpoint_cannot_be_woken(server, lifecycle, model_standin):
    manager, _ = lifecycle(MODEL_120B_BASE_URL=model_standin.url)
    view = server.run_coro(manager.status_one("120b"))
    assert view["status"] == "running" and view["manageable"] is False
    with pytest.raises(Conflict):
        server.run_coro(manager.wake("120b"))
    unconfigured = server.run_coro(manager.status_one("20b"))
    assert unconfigured["status"] == "unreachable" and unconfigured["provider"] == "none"
