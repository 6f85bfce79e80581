"""One runtime per process: the app's and the engine's view of it are the same object, a
second one is refused, and no module keeps process state in a `global` of its own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support import SRC

# The one accessor (runtime.py) and the heavy tools' import-once flag (a code registry).
GLOBALS_ALLOWED = {"crazy_gary/runtime.py", "crazy_gary/heavy/tools/__init__.py"}


def test_routes_and_durable_steps_see_one_runtime(server):
    from crazy_gary import runtime

    current = runtime.current()
    assert server.config.app.fastapi_app.state.runtime is current
    assert set(current.durable.queues) == {"agent_tasks", "agent_chat", "heavy"}
    assert current.durable.launched and current.fanout.started
    assert {"mcp", "huggingface_api"} <= set(current.health_checks)
    assert current.models.manager is current.endpoints


async def test_a_second_runtime_in_the_process_is_refused(server, settings):
    from crazy_gary import runtime
    from crazy_gary.startup import start_runtime

    before = runtime.current()
    with pytest.raises(RuntimeError, match="already running"):
        async with start_runtime(settings):
            pass
    assert runtime.current() is before


def test_no_module_keeps_state_in_a_global_statement():
    offenders = []
    for path in sorted((SRC / "crazy_gary").rglob("*.py")):
        name = path.relative_to(SRC).as_posix()
        tree = ast.parse(Path(path).read_text())
        if name not in GLOBALS_ALLOWED and any(isinstance(n, ast.Global)
                                               for n in ast.walk(tree)):
            offenders.append(name)
    assert offenders == [], f"process state belongs on the Runtime: {offenders}"
