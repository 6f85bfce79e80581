"""A delivery waiting for its next attempt survives the process being killed: the restarted
process recovers the durable workflow, which sleeps out its backoff and delivers."""

from __future__ import annotations

import httpx

from tests.support import free_port, instance_server, register
from tests.webhooks.helpers import create_webhook, wait_delivery
from tests.webhooks.receiver import Receiver


async def test_pending_delivery_survives_sigkill(server):
    srv = instance_server(WEBHOOK_RETRY_SCHEDULE="2,2,2,2,2,2,2,2,2,2")
    receiver = Receiver(port=free_port())  # down until the process was killed
    try:
        async with httpx.AsyncClient(base_url=srv.url, timeout=30) as client:
            user = await register(client)
            hook = await create_webhook(client, user, receiver.url, ["task.completed"])
            delivery = (await client.post(f"/api/webhooks/{hook['id']}/test",
                                          headers=user.headers)).json()
            pending = await wait_delivery(client, user, hook["id"], delivery["id"],
                                          lambda d: d["attempts"] >= 1)
            assert pending["status"] == "retrying"
            srv.kill()
            receiver.start()
            srv.start()
            done = await wait_delivery(client, user, hook["id"], delivery["id"],
                                       lambda d: d["status"] == "succeeded", within=40)
            assert done["attempts"] >= 2
            assert {r.headers["webhook-id"] for r in receiver.received} == {delivery["id"]}
    finally:
        srv.stop()
        receiver.stop()
