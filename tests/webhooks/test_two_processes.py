"""Two processes on one PostgreSQL database: each promised event is claimed by one
dispatcher only, so every event is delivered once (a webhook-id per event, no duplicates)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.support import ProcessServer, register
from tests.tasks.test_workers import fresh_database
from tests.webhooks.helpers import create_webhook
from tests.webhooks.receiver import Receiver

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
pytestmark = pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs TEST_DATABASE_URL")
EVENTS = 40


async def test_each_event_is_dispatched_by_one_process(base_env):
    url = fresh_database(TEST_DATABASE_URL, "webhooks2")
    data_dir = Path(tempfile.mkdtemp(prefix="cg-webhooks-"))

    def env_for(executor: str) -> dict[str, str]:
        return {**base_env, "CRAZY_GARY_DATA_DIR": str(data_dir), "DATABASE_URL": url,
                "REDIS_URL": "", "CRAZY_GARY_EXECUTOR_ID": executor}

    first = ProcessServer(env_for("wh-one")).start()
    second = ProcessServer(env_for("wh-two")).start()
    receiver = Receiver().start()
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        async with httpx.AsyncClient(base_url=first.url, timeout=30) as client:
            user = await register(client)
            await create_webhook(client, user, receiver.url, ["task.completed"])
        # Committed promises, as `outbox.record` leaves them; both dispatchers race for them.
        with engine.begin() as conn:
            for n in range(EVENTS):
                conn.execute(text(
                    "INSERT INTO outgoing_events (type, user_id, data, created_at) "
                    "VALUES ('task.completed', :user, CAST(:data AS JSON), now())"),
                    {"user": user.id, "data": json.dumps({"task_id": f"t{n}"})})
        got = await receiver.wait(lambda r: len(r) >= EVENTS, within=60)
        task_ids = sorted(json.loads(r.body)["data"]["task_id"] for r in got)
        assert task_ids == sorted(f"t{n}" for n in range(EVENTS))
        assert len({r.headers["webhook-id"] for r in got}) == EVENTS
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM outgoing_events")).scalar() == 0
            assert conn.execute(text("SELECT count(*) FROM webhook_deliveries")).scalar() \
                == EVENTS
    finally:
        engine.dispose()
        receiver.stop()
        first.stop()
        second.stop()
