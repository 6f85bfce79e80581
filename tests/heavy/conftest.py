"""Heavy fixtures: the weak fixture project copied into a user's workspace."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest_asyncio

FIXTURE_PROJECT = Path(__file__).parent / "fixtures" / "weak_project"


@pytest_asyncio.fixture(loop_scope="session")
async def analysed_user(client, settings):
    """A user whose workspace holds the weak project under `proj/`."""
    from tests.support import register

    user = await register(client)
    root = settings.workspaces_dir / str(user.id)
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(FIXTURE_PROJECT, root / "proj")
    return user
