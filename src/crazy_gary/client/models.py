"""The API's shapes. Server schemas are reused where they are exactly what the API sends
(they import only pydantic); the few defined here live beside server code that a client
must not import (the tool hub, the health router, the event log)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from crazy_gary.approvals.schemas import ApprovalRead
from crazy_gary.auth.api_key_schemas import ApiKeyCreated, ApiKeyRead
from crazy_gary.auth.schemas import (
    AuthResponse,
    MessageResponse,
    PasswordChanged,
    RefreshResponse,
    UserProfile,
    ValidateResponse,
)
from crazy_gary.chat.schemas import ChatResponse
from crazy_gary.endpoints.schemas import AllEndpointsStatus, EndpointStatus, OperationStarted
from crazy_gary.heavy.schemas import (
    OrchestrationProgress,
    OrchestrationStarted,
    ToolExecuteResponse,
)
from crazy_gary.heavy.schemas import ToolInfo as HeavyTool
from crazy_gary.monitoring.observability_schemas import ObservabilityMetrics, TraceRead
from crazy_gary.monitoring.schemas import (
    AlertRead,
    BasicHealth,
    Dashboard,
    DetailedHealth,
    ErrorLogRead,
    IncidentCreated,
    IncidentRead,
    RequestLogRead,
    SystemMetrics,
)
from crazy_gary.schedules.schemas import RunStarted, ScheduleRead, ScheduleRunRead
from crazy_gary.tasks.schemas import StatsRead, StatusOnly, TaskCreated, TaskDetail, TaskRead
from crazy_gary.users.schemas import UserRead

T = TypeVar("T")

FINAL_STATUSES = ("completed", "failed", "stopped")


class Health(BaseModel):
    status: str
    service: str
    version: str
    environment: str
    railway_env: str
    timestamp: float


class Readiness(BaseModel):
    status: str
    missing_env_vars: list[str] | None = None
    database: str | None = None


class Tool(BaseModel):
    """One tool of the MCP catalogue (`schema` is its JSON Schema)."""

    model_config = ConfigDict(populate_by_name=True)

    name: str
    description: str
    schema_: dict[str, Any] = Field(alias="schema")
    client: str


class ToolResult(BaseModel):
    success: bool
    result: Any = None
    error: str | None = None
    latency_ms: float
    client: str
    tool: str


class ToolhubStatus(BaseModel):
    status: str
    connected_clients: list[str]
    available_tools: int
    last_health_check: str
    clients: dict[str, dict[str, Any]]
    config_error: str | None = None


class WorkspaceFile(BaseModel):
    path: str
    size: int
    modified: str


class ImportResult(BaseModel):
    imported: int
    bytes: int
    files: list[WorkspaceFile]


class Event(BaseModel):
    """One frame of the event stream: its log id, name and payload."""

    id: int
    event: str
    data: dict[str, Any]


class ChatDone(BaseModel):
    """The `done` frame of a streamed chat turn."""

    response: str
    task_id: str
    conversation_id: str
    model: str | None = None
    usage: dict[str, int] = {}


@dataclass
class Page(Generic[T]):
    """One page of a list route, with the pagination headers' values."""

    items: list[T]
    total: int
    limit: int
    offset: int
    has_more: bool
    next_url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


__all__ = [
    "AlertRead", "AllEndpointsStatus", "ApiKeyCreated", "ApiKeyRead", "ApprovalRead",
    "AuthResponse",
    "BasicHealth", "ChatDone", "ChatResponse",
    "Dashboard", "DetailedHealth", "EndpointStatus", "ErrorLogRead", "Event", "FINAL_STATUSES",
    "Health", "HeavyTool", "ImportResult", "IncidentCreated", "IncidentRead", "MessageResponse",
    "ObservabilityMetrics", "OperationStarted", "OrchestrationProgress", "OrchestrationStarted",
    "Page", "PasswordChanged", "Readiness", "RefreshResponse", "RequestLogRead", "RunStarted",
    "ScheduleRead", "ScheduleRunRead", "StatsRead",
    "StatusOnly", "SystemMetrics", "TaskCreated", "TaskDetail", "TaskRead", "Tool",
    "ToolExecuteResponse", "ToolResult", "ToolhubStatus", "TraceRead", "UserProfile", "UserRead",
    "ValidateResponse", "WorkspaceFile",
]
