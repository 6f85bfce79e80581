"""What one process is made of: the `Runtime` and its one accessor.

Every process-wide service lives on one `Runtime`, built and started by
`crazy_gary.startup.start_runtime` (the app lifespan and `crazy-gary worker` call it) and
stopped in reverse. Routes read it from `request.app.state.runtime` through dependencies;
durable steps and workflows, which the engine calls with no request, read it through
`current()`, set once when the runtime starts and cleared when it stops. One process runs
one runtime (the durable engine, DBOS, is a process-wide library).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import HTTPConnection

if TYPE_CHECKING:  # the services' modules read `current()`: types only, no import cycle
    from collections.abc import Awaitable, Callable

    from crazy_gary.auth.cache import UserCache
    from crazy_gary.auth.tokens import VerifiedTokens
    from crazy_gary.config import Settings
    from crazy_gary.db import Database
    from crazy_gary.durable import DurableEngine
    from crazy_gary.endpoints.service import EndpointManager
    from crazy_gary.heavy.runtime import ChangeWaiters
    from crazy_gary.llm.service import ModelService
    from crazy_gary.monitoring.cluster import ExecutorRegistry
    from crazy_gary.monitoring.runtime import TelemetryServices
    from crazy_gary.realtime.fanout import Fanout
    from crazy_gary.realtime.revocation import StreamGuard
    from crazy_gary.toolhub.hub import ToolHub
    from crazy_gary.users.listing import PageCache

    HealthCheck = Callable[[], Awaitable[dict[str, Any]]]


@dataclass
class Runtime:
    """Every process-wide service, in the order they start (they stop in reverse)."""

    settings: Settings
    database: Database
    telemetry: TelemetryServices
    fanout: Fanout
    endpoints: EndpointManager
    models: ModelService
    hub: ToolHub
    durable: DurableEngine
    user_cache: UserCache
    user_pages: PageCache
    verified_tokens: VerifiedTokens
    stream_guard: StreamGuard
    orchestration_waiters: ChangeWaiters
    cluster: ExecutorRegistry
    health_checks: dict[str, HealthCheck] = field(default_factory=dict)
    # The phase this process last wrote per running task (repeats are not written again).
    task_phases: dict[str, tuple[str, str | None]] = field(default_factory=dict)


_current: Runtime | None = None


def of(connection: HTTPConnection) -> Runtime:
    """The runtime serving this request (set on the app by its lifespan)."""
    return connection.app.state.runtime


def current() -> Runtime:
    """The running process's runtime (for code the engine calls without a request)."""
    if _current is None:
        raise RuntimeError("no runtime is running in this process")
    return _current


def running() -> Runtime | None:
    """The runtime if one is running (code that also runs outside one, e.g. the CLI)."""
    return _current


def install(runtime: Runtime | None) -> None:
    """Set (at start) or clear (at stop) the process's runtime; one at a time."""
    global _current
    if runtime is not None and _current is not None:
        raise RuntimeError("a runtime is already running in this process")
    _current = runtime
