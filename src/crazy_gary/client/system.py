"""Model endpoints, heavy orchestration, monitoring and observability, health probes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from crazy_gary.client.core import Core
from crazy_gary.client.events import Subscription
from crazy_gary.client.models import (
    AlertRead,
    AllEndpointsStatus,
    BasicHealth,
    Dashboard,
    DetailedHealth,
    EndpointStatus,
    ErrorLogRead,
    Event,
    Health,
    HeavyTool,
    IncidentCreated,
    IncidentRead,
    ObservabilityMetrics,
    OperationStarted,
    OrchestrationProgress,
    OrchestrationStarted,
    Page,
    Readiness,
    RequestLogRead,
    SystemMetrics,
    ToolExecuteResponse,
    TraceRead,
)

ORCHESTRATION_ENDED = ("completed", "failed", "timeout", "cancelled")


class EndpointsArea:
    """The model endpoints ("120b", "20b"): status, wake, sleep (sleep is admin-only)."""

    def __init__(self, core: Core) -> None:
        self._core = core

    async def status(self) -> AllEndpointsStatus:
        return await self._core.call("GET", "/api/endpoints/status", AllEndpointsStatus)

    async def status_of(self, model_type: str) -> EndpointStatus:
        return await self._core.call("GET", f"/api/endpoints/status/{model_type}",
                                     EndpointStatus)

    async def wake(self, model_type: str | None = None) -> OperationStarted:
        path = f"/api/endpoints/wake/{model_type}" if model_type else "/api/endpoints/wake"
        return await self._core.call("POST", path, OperationStarted)

    async def sleep(self, model_type: str | None = None) -> OperationStarted:
        path = f"/api/endpoints/sleep/{model_type}" if model_type else "/api/endpoints/sleep"
        return await self._core.call("POST", path, OperationStarted)

    async def wait_until(self, model_type: str, statuses: tuple[str, ...] = ("running",), *,
                         within: float = 900.0, interval: float = 2.0
                         ) -> AsyncIterator[EndpointStatus]:
        """Poll one endpoint, yielding each status, until it is in `statuses`."""
        deadline = asyncio.get_running_loop().time() + within
        while True:
            current = await self.status_of(model_type)
            yield current
            if current.status in statuses:
                return
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"endpoint {model_type} still {current.status}")
            await asyncio.sleep(interval)


class HeavyArea:
    """Tool workflows and the multi-agent heavy mode."""

    def __init__(self, core: Core) -> None:
        self._core = core

    async def orchestrate(self, request: dict[str, Any]) -> OrchestrationStarted:
        """Start `{"workflow": [...], "config": {...}}` or `{"query": ..., "num_agents": n}`."""
        return await self._core.call("POST", "/api/heavy/orchestrate", OrchestrationStarted,
                                     json=request)

    async def progress(self, orchestration_id: str | None = None) -> OrchestrationProgress:
        """One orchestration's progress (your most recent one without an id)."""
        params = {"orchestration_id": orchestration_id} if orchestration_id else None
        return await self._core.call("GET", "/api/heavy/progress", OrchestrationProgress,
                                     params=params)

    async def stop(self, orchestration_id: str) -> OrchestrationProgress:
        return await self._core.call(
            "POST", f"/api/heavy/orchestrations/{orchestration_id}/stop", OrchestrationProgress)

    async def tools(self) -> list[HeavyTool]:
        return await self._core.call("GET", "/api/heavy/tools", list[HeavyTool])

    async def execute_tool(self, tool_name: str, parameters: dict[str, Any] | None = None
                           ) -> ToolExecuteResponse:
        return await self._core.call("POST", "/api/heavy/tools/execute", ToolExecuteResponse,
                                     json={"tool_name": tool_name,
                                           "parameters": parameters or {}},
                                     timeout=self._core.wait_timeout)

    async def follow(self, orchestration_id: str, *,
                     subscription: Subscription | None = None) -> AsyncIterator[Event]:
        """The orchestration's `orchestration_update` events, live, until it ends."""
        own = subscription is None
        sub = subscription or Subscription(self._core)
        if own:
            await sub.open()
        try:
            if own and (await self.progress(orchestration_id)).status in ORCHESTRATION_ENDED:
                return
            async for event in sub:
                if event.data.get("orchestration_id") != orchestration_id:
                    continue
                yield event
                if event.data.get("status") in ORCHESTRATION_ENDED:
                    return
        finally:
            if own:
                await sub.close()

    async def wait(self, orchestration_id: str, *, within: float | None = None
                   ) -> OrchestrationProgress:
        async def drain() -> None:
            async for _ in self.follow(orchestration_id):
                pass

        await asyncio.wait_for(drain(), within)
        return await self.progress(orchestration_id)


class MonitoringArea:
    """Health, metrics, logs (admin), alerts, incidents, traces."""

    def __init__(self, core: Core) -> None:
        self._core = core

    async def health(self) -> BasicHealth:
        return await self._core.call("GET", "/api/monitoring/health", BasicHealth)

    async def health_detailed(self) -> DetailedHealth:
        return await self._core.call("GET", "/api/monitoring/health/detailed", DetailedHealth)

    async def dashboard(self) -> Dashboard:
        return await self._core.call("GET", "/api/monitoring/health/dashboard", Dashboard)

    async def metrics(self) -> SystemMetrics:
        return await self._core.call("GET", "/api/monitoring/metrics", SystemMetrics)

    async def request_logs(self, *, limit: int = 100, offset: int = 0,
                           start_time: str | None = None) -> Page[RequestLogRead]:
        return await self._core.page("/api/monitoring/logs/requests", RequestLogRead,
                                     limit=limit, offset=offset,
                                     params={"start_time": start_time})

    async def error_logs(self, *, level: str | None = None, limit: int = 100,
                         offset: int = 0) -> Page[ErrorLogRead]:
        return await self._core.page("/api/monitoring/logs/errors", ErrorLogRead,
                                     limit=limit, offset=offset, params={"level": level})

    async def alerts(self, *, limit: int = 50, offset: int = 0) -> Page[AlertRead]:
        return await self._core.page("/api/monitoring/alerts", AlertRead, limit=limit,
                                     offset=offset)

    async def acknowledge_alert(self, alert_id: str) -> AlertRead:
        return await self._core.call("POST", f"/api/monitoring/alerts/{alert_id}/acknowledge",
                                     AlertRead)

    async def incidents(self, *, status: str | None = None, severity: str | None = None,
                        limit: int = 50, offset: int = 0) -> Page[IncidentRead]:
        return await self._core.page("/api/monitoring/incidents", IncidentRead, limit=limit,
                                     offset=offset,
                                     params={"status": status, "severity": severity})

    async def create_incident(self, title: str, *, description: str = "",
                              severity: str = "medium") -> IncidentCreated:
        return await self._core.call("POST", "/api/monitoring/incidents", IncidentCreated,
                                     json={"title": title, "description": description,
                                           "severity": severity})

    async def incident(self, incident_id: str) -> IncidentRead:
        return await self._core.call("GET", f"/api/monitoring/incidents/{incident_id}",
                                     IncidentRead)

    async def update_incident(self, incident_id: str, **changes: Any) -> IncidentRead:
        """Change `status`, `assignee`, `severity` or add a `note` (admin only)."""
        return await self._core.call("PATCH", f"/api/monitoring/incidents/{incident_id}",
                                     IncidentRead, json=changes)

    async def observability(self) -> ObservabilityMetrics:
        return await self._core.call("GET", "/api/observability/metrics", ObservabilityMetrics)

    async def traces(self, *, limit: int = 50) -> list[TraceRead]:
        return await self._core.call("GET", "/api/observability/traces/active",
                                     list[TraceRead], params={"limit": limit})


class HealthArea:
    """The unauthenticated probes."""

    def __init__(self, core: Core) -> None:
        self._core = core

    async def check(self) -> Health:
        return await self._core.call("GET", "/health", Health, auth=False)

    async def ready(self) -> Readiness:
        """Readiness (a 503 answer is returned as `status="not ready"`, not raised)."""
        resp = await self._core.request("GET", "/health/ready", auth=False, accept=(503,))
        return Readiness.model_validate(resp.json())

    async def live(self) -> bool:
        resp = await self._core.request("GET", "/health/live", auth=False)
        return bool(resp.json().get("status") == "alive")
