"""Two real service processes sharing one database: wake once, auto-sleep once, restart.

Runs on SQLite in a data dir of its own (the shared server's database keeps its own
endpoint rows), with an emulated HF endpoint and the durable auto-sleep schedule
ticking every second.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid

import httpx
import pytest

from tests.fakes.hf_emulator import HfEmulator
from tests.support import ProcessServer, login, register


@pytest.fixture(scope="module")
def cluster(model_standin):
    emu = HfEmulator().start()
    name = f"gpt-oss-120b-{uuid.uuid4().hex[:6]}"
    emu.add("gary", name, url=model_standin.base, pending_seconds=0.3,
            initializing_seconds=0.5)
    data_dir = tempfile.mkdtemp(prefix="cg-endpoints-")
    env = {
        "CRAZY_GARY_DATA_DIR": data_dir, "RATE_LIMITS_ENABLED": "false",
        "HUGGINGFACE_API_KEY": "test-hf-key", "ENVIRONMENT": "test",
        "DATABASE_URL": "", "REDIS_URL": "",
        "MODEL_120B_HF_ENDPOINT": f"gary/{name}", "HF_ENDPOINTS_API_URL": emu.api_url,
        "MODEL_120B_BASE_URL": "", "MODEL_20B_BASE_URL": model_standin.url,
        "ENDPOINT_AUTO_SLEEP_SECONDS": "3", "ENDPOINT_AUTO_SLEEP_CHECK_CRON": "* * * * * *",
        "ENDPOINT_POLL_SECONDS": "0.1", "ENDPOINT_WAKE_TIMEOUT_SECONDS": "30",
    }
    servers = [ProcessServer({**env, "CRAZY_GARY_EXECUTOR_ID": f"ep-{i}"}).start()
               for i in range(2)]
    yield emu, name, servers, env
    for srv in servers:
        srv.stop()
    emu.stop()


async def status(client: httpx.AsyncClient, headers) -> dict:
    resp = await client.get("/api/endpoints/status/120b", headers=headers)
    assert resp.status_code == 200, resp.text
    return resp.json()


async def wait_for(client, headers, wanted: str, within: float = 30) -> dict:
    deadline = time.monotonic() + within
    body = None
    while time.monotonic() < deadline:
        body = await status(client, headers)
        if body["status"] == wanted:
            return body
        await asyncio.sleep(0.2)
    raise AssertionError(f"never {wanted}: {body}")


async def test_wake_requests_to_both_processes_resume_once_then_auto_sleep_once(cluster):
    emu, name, servers, env = cluster
    a, b = (httpx.AsyncClient(base_url=s.url, timeout=30) for s in servers)
    async with a, b:
        user = await register(a)
        same_user_b = await login(b, user.email, user.password)
        requests = [c.post("/api/endpoints/wake/120b", headers=u.headers)
                    for c, u in ((a, user), (b, same_user_b)) for _ in range(3)]
        answers = await asyncio.gather(*requests)
        assert all(r.status_code == 200 for r in answers)
        assert answers[0].json() == {"success": True,
                                     "message": "120B endpoint wake operation initiated"}
        running = await wait_for(b, same_user_b.headers, "running")
        assert running["auto_sleep_in"] is not None and running["auto_sleep_in"] <= 3
        assert len(emu.calls_to("resume")) == 1
        # Idle for ENDPOINT_AUTO_SLEEP_SECONDS: the schedule (ticking in both processes)
        # puts it to sleep exactly once.
        asleep = await wait_for(a, user.headers, "sleeping", within=40)
        assert asleep["sleep_time"] is not None
        await asyncio.sleep(2.5)  # a few more ticks in both processes
        assert len(emu.calls_to("pause")) == 1
        assert emu.state("gary", name) == "paused"


async def test_restart_keeps_endpoint_records(cluster):
    emu, name, servers, env = cluster
    async with httpx.AsyncClient(base_url=servers[0].url, timeout=30) as client:
        user = await register(client)
        before = await status(client, user.headers)
    assert before["sleep_time"] is not None
    for srv in servers:
        srv.kill()
    restarted = ProcessServer({**env, "CRAZY_GARY_EXECUTOR_ID": "ep-0"}).start()
    servers[0] = restarted
    async with httpx.AsyncClient(base_url=restarted.url, timeout=30) as client:
        again = await login(client, user.email, user.password)
        after = await status(client, again.headers)
    assert after["status"] == "sleeping"
    assert after["sleep_time"] == before["sleep_time"]
    assert after["wake_time"] == before["wake_time"]
