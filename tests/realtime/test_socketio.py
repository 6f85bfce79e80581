"""Socket.IO: token at connect (auth payload or query), one room per user, bad tokens refused."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
import socketio

from tests.realtime.helpers import publish_on

JS_DIR = Path(__file__).resolve().parent.parent / "js"


class Recorder:
    def __init__(self, events=("task_update", "orchestration_update", "system_alert",
                               "health_status")) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.received: list[tuple[str, dict]] = []
        for name in events:
            self.sio.on(name, self._handler(name))

    def _handler(self, name):
        async def handle(data):
            self.received.append((name, data))
        return handle

    async def wait_for(self, predicate, within: float = 10.0):
        for _ in range(int(within / 0.02)):
            for item in self.received:
                if predicate(*item):
                    return item
            await asyncio.sleep(0.02)
        raise AssertionError(f"nothing matched; got {self.received}")


async def test_python_client_gets_own_events_only(server, user, other_user):
    tag = uuid.uuid4().hex
    mine, theirs = Recorder(), Recorder()
    await mine.sio.connect(server.url, auth={"token": user.token}, transports=["websocket"])
    await theirs.sio.connect(f"{server.url}?token={other_user.token}")  # query-string form
    try:
        await publish_on(server, "task_update", {"task_id": tag, "progress": 10},
                         user_id=user.id)
        await publish_on(server, "orchestration_update", {"orchestration_id": tag},
                         user_id=user.id)
        await publish_on(server, "system_alert", {"message": tag, "severity": "low"})
        await mine.wait_for(lambda e, d: e == "task_update" and d["task_id"] == tag)
        await mine.wait_for(lambda e, d: e == "orchestration_update")
        await mine.wait_for(lambda e, d: e == "system_alert" and d["message"] == tag)
        await theirs.wait_for(lambda e, d: e == "system_alert" and d["message"] == tag)
        await asyncio.sleep(0.2)
        assert not [d for e, d in theirs.received
                    if d.get("task_id") == tag or d.get("orchestration_id") == tag]
    finally:
        await mine.sio.disconnect()
        await theirs.sio.disconnect()


@pytest.mark.parametrize("auth", [None, {"token": "garbage"}, {"token": ""}])
async def test_bad_or_missing_token_is_refused(server, auth):
    client = socketio.AsyncClient(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(server.url, auth=auth, transports=["websocket"], wait_timeout=5)
    assert not client.connected


async def test_refresh_token_is_not_an_access_token(server, user):
    client = socketio.AsyncClient(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(server.url, auth={"token": user.refresh_token}, wait_timeout=5)


JS_CLIENT = r"""
const { io } = require(process.env.SIO_MODULE);
const socket = io(process.env.URL, { auth: { token: process.env.TOKEN }, reconnection: false });
const got = [];
const done = (code) => { console.log(JSON.stringify({ got, error: socket.__err || null }));
                         socket.close(); process.exit(code); };
socket.on('connect', () => console.log(JSON.stringify({ connected: true })));
socket.on('connect_error', (err) => { socket.__err = { message: err.message, data: err.data };
                                      done(0); });
for (const name of ['task_update', 'system_alert']) {
  socket.on(name, (data) => { got.push({ name, data });
                              if (got.length >= 2) done(0); });
}
setTimeout(() => done(1), 15000);
"""


def _node_ready() -> bool:
    module = JS_DIR / "node_modules" / "socket.io-client"
    return shutil.which("node") is not None and module.is_dir()


@pytest.mark.skipif(not _node_ready(), reason="node or socket.io-client (tests/js) missing")
async def test_javascript_client_as_the_contract_example_uses_it(server, user, tmp_path):
    script = tmp_path / "client.js"
    script.write_text(JS_CLIENT)
    env = {"PATH": "/usr/bin:/bin:/usr/local/bin", "URL": server.url, "TOKEN": user.token,
           "SIO_MODULE": str(JS_DIR / "node_modules" / "socket.io-client")}
    proc = await asyncio.create_subprocess_exec(
        "node", str(script), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines = []
    while True:
        line = await asyncio.wait_for(proc.stdout.readline(), 20)
        assert line, (await proc.stderr.read()).decode()
        lines.append(json.loads(line))
        if lines[-1].get("connected"):
            break
    tag = uuid.uuid4().hex
    await publish_on(server, "task_update", {"task_id": tag, "progress": 75}, user_id=user.id)
    await publish_on(server, "system_alert", {"message": tag, "severity": "medium"})
    out, err = await asyncio.wait_for(proc.communicate(), 20)
    result = json.loads(out.decode().strip().splitlines()[-1])
    assert proc.returncode == 0, err.decode()
    assert {"name": "task_update", "data": {"task_id": tag, "progress": 75}} in result["got"]
    assert {"name": "system_alert", "data": {"message": tag, "severity": "medium"}} in result["got"]


@pytest.mark.skipif(not _node_ready(), reason="node or socket.io-client (tests/js) missing")
async def test_javascript_client_with_bad_token_gets_connect_error(server, tmp_path):
    script = tmp_path / "client.js"
    script.write_text(JS_CLIENT)
    env = {"PATH": "/usr/bin:/bin:/usr/local/bin", "URL": server.url, "TOKEN": "bad",
           "SIO_MODULE": str(JS_DIR / "node_modules" / "socket.io-client")}
    proc = await asyncio.create_subprocess_exec(
        "node", str(script), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 20)
    result = json.loads(out.decode().strip().splitlines()[-1])
    assert result["error"]["data"]["code"] == "AUTH_REQUIRED"
