"""The Python client's `webhooks` area and the `crazy-gary webhooks` commands."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from crazy_gary.client import ApiError, AsyncClient
from tests.support import subprocess_env
from tests.webhooks.receiver import Receiver


@pytest.fixture
def receiver():
    srv = Receiver().start()
    yield srv
    srv.stop()


async def test_client_area(server, user, receiver):
    async with AsyncClient(server.url, token=user.token) as gary:
        hook = await gary.webhooks.create(receiver.url, ["task.completed"], description="ci")
        assert hook.secret.startswith("whsec_")
        assert hook.id in [h.id for h in (await gary.webhooks.list()).items]
        sent = await gary.webhooks.test(hook.id)
        await receiver.wait(lambda r: len(r) >= 1)
        page = await gary.webhooks.deliveries(hook.id)
        assert [d.id for d in page.items] == [sent.id] and page.total == 1
        off = await gary.webhooks.update(hook.id, enabled=False)
        assert off.enabled is False
        with pytest.raises(ApiError) as refused:
            await gary.webhooks.test(hook.id)
        assert refused.value.status_code == 409
        await gary.webhooks.delete(hook.id)
        with pytest.raises(ApiError) as gone:
            await gary.webhooks.get(hook.id)
        assert gone.value.status_code == 404


def crazy_gary(server, user, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "crazy_gary", *args], capture_output=True, text=True,
        timeout=90, env=subprocess_env({"CRAZY_GARY_URL": server.url,
                                        "CRAZY_GARY_TOKEN": user.token, "NO_COLOR": "1"}))


async def test_cli_create_test_and_deliveries(server, user, receiver):
    created = crazy_gary(server, user, "webhooks", "create", receiver.url,
                         "-e", "task.completed,task.failed", "--json")
    assert created.returncode == 0, created.stderr
    hook = json.loads(created.stdout)
    assert hook["events"] == ["task.completed", "task.failed"]
    assert hook["secret"].startswith("whsec_")
    sent = crazy_gary(server, user, "webhooks", "test", hook["id"], "--json")
    assert sent.returncode == 0, sent.stderr
    await receiver.wait(lambda r: len(r) >= 1)
    listed = crazy_gary(server, user, "webhooks", "deliveries", hook["id"], "--json")
    assert [d["id"] for d in json.loads(listed.stdout)] == [json.loads(sent.stdout)["id"]]
    bad = crazy_gary(server, user, "webhooks", "create", receiver.url, "-e", "nope")
    assert bad.returncode == 1 and "VALIDATION_ERROR" in bad.stdout + bad.stderr
