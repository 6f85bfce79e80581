"""Monitoring API schemas (field names as the contract shows them)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from crazy_gary.kit.bodies import RequestBody

Severity = Literal["low", "medium", "high", "critical"]
IncidentStatus = Literal["open", "investigating", "resolved"]


class BasicHealth(BaseModel):
    status: str
    service: str = "crazy-gary"
    timestamp: str


class ProcessRead(BaseModel):
    """One process of the cluster (a `serve` or a `worker`)."""

    executor_id: str
    role: str
    host: str
    pid: int
    version: str
    state: Literal["alive", "draining", "gone"]
    started_at: str
    last_seen: str
    left_at: str | None
    claimed_by: str | None = Field(description="The survivor that took over its work")
    running_tasks: int = Field(description="Agent tasks it runs now")


class ClusterRead(BaseModel):
    processes: list[ProcessRead]


class DetailedHealth(BaseModel):
    overall: BasicHealth
    components: dict[str, dict[str, Any]]
    cluster: list[ProcessRead] | None = Field(
        default=None, description="The cluster's processes (admins only; null for others)")


class RequestMetrics(BaseModel):
    total: int
    successful: int
    failed: int
    average_response_time: float


class SystemMetrics(BaseModel):
    cpu: dict[str, Any]
    memory: dict[str, Any]
    disk: dict[str, Any]
    network: dict[str, Any]
    requests: RequestMetrics


class RequestLogRead(BaseModel):
    timestamp: str
    method: str
    path: str
    status_code: int
    response_time: float
    user_agent: str | None
    ip_address: str | None
    request_id: str | None = None
    user_id: int | None = None


class ErrorLogRead(BaseModel):
    timestamp: str
    level: str
    message: str
    stack_trace: str | None
    component: str
    request_id: str | None


class AlertRead(BaseModel):
    id: str
    type: str
    severity: str
    message: str
    timestamp: str
    component: str
    acknowledged: bool
    status: str
    resolved_at: str | None = None
    acknowledged_by: str | None = None


class IncidentCreate(RequestBody):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)
    severity: Severity = "medium"


class IncidentCreated(BaseModel):
    id: str
    status: str


class IncidentUpdate(RequestBody):
    status: IncidentStatus | None = None
    assignee: str | None = Field(default=None, max_length=320)
    severity: Severity | None = None
    note: str | None = Field(default=None, max_length=10_000)


class IncidentRead(BaseModel):
    id: str
    title: str
    status: str
    severity: str
    created_at: str
    updated_at: str
    description: str
    assignee: str | None
    resolved_at: str | None = None
    timeline: list[dict[str, Any]] = []


class Dashboard(BaseModel):
    health: BasicHealth
    metrics: dict[str, Any]
    alerts: list[dict[str, Any]]
    incidents: list[dict[str, Any]]
    cluster: list[ProcessRead] | None = Field(
        default=None, description="The cluster's processes (admins only; null for others)")
