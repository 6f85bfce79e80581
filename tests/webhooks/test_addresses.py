"""SSRF guard: private, loopback, link-local and metadata targets are refused when saved
(HTTP 400 on a server without WEBHOOK_ALLOW_PRIVATE_NETWORKS) and again at delivery time."""

from __future__ import annotations

import httpx
import pytest

from crazy_gary.webhooks.addresses import UnsafeURL, check
from crazy_gary.webhooks.sender import send
from tests.support import instance_server, register
from tests.webhooks.receiver import Receiver

REFUSED = [
    "http://127.0.0.1/hook", "http://127.1.2.3:8080/x", "http://localhost/hook",
    "http://10.0.0.5/", "http://172.16.4.4/", "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data", "http://100.100.100.200/",
    "http://[::1]/", "http://[fe80::1]/", "http://[fd00:ec2::254]/", "http://[::ffff:127.0.0.1]/",
    "http://0.0.0.0/", "http://100.64.0.1/",
]


@pytest.mark.parametrize("url", REFUSED)
async def test_private_targets_are_refused(url):
    with pytest.raises(UnsafeURL):
        await check(url, allow_private=False)


async def test_public_and_allowed_targets_pass():
    target = await check("https://93.184.215.14:8443/hook", allow_private=False)
    assert (target.address, target.port, target.host) == ("93.184.215.14", 8443, "93.184.215.14")
    assert (await check("http://127.0.0.1:9/x", allow_private=True)).address == "127.0.0.1"
    with pytest.raises(UnsafeURL):
        await check("http://name.invalid/x", allow_private=True)  # does not resolve


async def test_delivery_time_check_refuses_without_sending():
    receiver = Receiver().start()
    try:
        attempt = await send(url=receiver.url, secret="whsec_" + "A" * 44, msg_id="msg_1",
                             body="{}", timeout_seconds=2, allow_private=False)
        assert not attempt.ok and attempt.error and attempt.error.startswith("refused")
        assert receiver.received == []
        allowed = await send(url=receiver.url, secret="whsec_" + "A" * 44, msg_id="msg_1",
                             body="{}", timeout_seconds=2, allow_private=True)
        assert allowed.ok and allowed.status_code == 200 and len(receiver.received) == 1
        assert receiver.received[0].headers["host"] == f"127.0.0.1:{receiver.port}"
    finally:
        receiver.stop()


async def test_redirects_are_not_followed():
    receiver = Receiver().start()
    receiver.answers = [302]
    try:
        attempt = await send(url=receiver.url, secret="whsec_" + "A" * 44, msg_id="msg_2",
                             body="{}", timeout_seconds=2, allow_private=True)
        assert not attempt.ok and attempt.status_code == 302
        assert len(receiver.received) == 1
    finally:
        receiver.stop()


async def test_a_server_without_the_setting_answers_400(server):
    srv = instance_server(WEBHOOK_ALLOW_PRIVATE_NETWORKS="false")
    try:
        async with httpx.AsyncClient(base_url=srv.url, timeout=30) as client:
            user = await register(client)
            for url in ("http://127.0.0.1:8080/hook", "http://169.254.169.254/latest",
                        "http://[::1]/x", "http://localhost/x"):
                resp = await client.post("/api/webhooks", headers=user.headers,
                                         json={"url": url, "events": ["task.completed"]})
                assert resp.status_code == 400, (url, resp.text)
                assert resp.json()["code"] == "VALIDATION_ERROR"
                assert "private" in resp.text
            public = await client.post("/api/webhooks", headers=user.headers,
                                       json={"url": "https://93.184.215.14/hook",
                                             "events": ["task.completed"]})
            assert public.status_code == 201, public.text
            moved = await client.patch(f"/api/webhooks/{public.json()['id']}",
                                       headers=user.headers,
                                       json={"url": "http://10.1.2.3/hook"})
            assert moved.status_code == 400 and moved.json()["code"] == "VALIDATION_ERROR"
            kept = await client.get(f"/api/webhooks/{public.json()['id']}",
                                    headers=user.headers)
            assert kept.json()["url"] == "https://93.184.215.14/hook"
    finally:
        srv.stop()
