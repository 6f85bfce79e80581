"""Endpoint managers with their own settings, run on the shared server's loop."""

from __future__ import annotations

import uuid

import pytest

from tests.fakes.hf_emulator import HfEmulator


@pytest.fixture(scope="module")
def hf():
    emu = HfEmulator().start()
    yield emu
    emu.stop()


@pytest.fixture
def lifecycle(server, settings):
    """Factory: (manager, model service) for the given env overrides, own record rows."""
    from crazy_gary.config import Settings
    from crazy_gary.endpoints.service import EndpointManager
    from crazy_gary.llm.service import ModelService

    built = []

    def build(**env):
        base = {"MODEL_120B_BASE_URL": None, "MODEL_20B_BASE_URL": None,
                "ENDPOINT_POLL_SECONDS": "0.1", "ENDPOINT_WAKE_TIMEOUT_SECONDS": "20",
                "MODEL_RETRY_BACKOFF_SECONDS": "0.05", "MODEL_MAX_RETRIES": "1",
                "ENDPOINT_STOP_GRACE_SECONDS": "3",
                "CRAZY_GARY_DATA_DIR": str(settings.resolved_data_dir)}
        s = Settings(**{**base, **env})
        manager = EndpointManager(s, record_prefix=f"t{uuid.uuid4().hex[:6]}-")
        built.append(manager)
        return manager, ModelService(s, manager)

    yield build
    for manager in built:
        for provider in manager.providers.values():
            if provider is not None and provider.kind == "process":
                server.run_coro(provider.sleep())
        server.run_coro(manager.close())
