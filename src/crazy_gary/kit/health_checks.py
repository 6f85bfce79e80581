"""The shape of a component health check that domains contribute.

A check is an async function returning a dict with at least `status`
("healthy", "degraded", "unhealthy" or "not_configured"); the monitoring
package times it and renders it under the component's name. The checks of a
process live on its runtime (`Runtime.health_checks`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

HealthCheck = Callable[[], Awaitable[dict[str, Any]]]
