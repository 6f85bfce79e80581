"""Settings read from the environment the way an operator writes them."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from crazy_gary.config import Settings


@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_mcp_config_means_no_mcp_servers(value):
    assert Settings(MCP_CONFIG=value).mcp_config is None


def test_an_mcp_config_path_is_kept():
    assert Settings(MCP_CONFIG="/etc/crazy-gary/mcp.json").mcp_config == Path(
        "/etc/crazy-gary/mcp.json")


def test_worker_concurrency_zero_is_an_api_only_process_and_below_is_refused():
    assert Settings(TASK_WORKER_CONCURRENCY=0).task_worker_concurrency == 0
    with pytest.raises(ValidationError):
        Settings(TASK_WORKER_CONCURRENCY=-1)
