"""A registry of component health checks that domains contribute to.

A check is an async function returning a dict with at least `status`
("healthy", "degraded", "unhealthy" or "not_configured"); the monitoring
package times it and renders it under the component's name.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

HealthCheck = Callable[[], Awaitable[dict[str, Any]]]

_checks: dict[str, HealthCheck] = {}


def register_check(name: str, check: HealthCheck) -> None:
    _checks[name] = check


def registered_checks() -> dict[str, HealthCheck]:
    return dict(_checks)
