"""Schedules a test created through the helpers (one that failed half-way included) are
deleted after it, so no every-2-seconds schedule keeps starting tasks on the shared server."""

from __future__ import annotations

import httpx
import pytest

from tests.schedules import helpers


@pytest.fixture(autouse=True)
def no_schedule_left():
    yield
    while helpers.CREATED:
        base_url, schedule_id, headers = helpers.CREATED.pop()
        try:
            httpx.delete(f"{base_url}/api/schedules/{schedule_id}", headers=headers, timeout=30)
        except httpx.HTTPError:
            pass  # that server is gone (a test's own process)
