"""API shapes of the tool hub and workspace routes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from crazy_gary.kit.bodies import RequestBody


class ToolRead(BaseModel):
    name: str
    description: str
    schema_: dict[str, Any] = Field(alias="schema", serialization_alias="schema")
    client: str
    effects: str = Field(default="write", description=(
        "read, idempotent or write: what a call does, and so whether it is re-run after a "
        "crash (read, idempotent) or put to a person (write)"))

    model_config = {"populate_by_name": True}


class ExecuteRequest(RequestBody):
    tool_name: str = Field(min_length=1, max_length=200)
    client_name: str = Field(min_length=1, max_length=200)
    parameters: dict[str, Any] = Field(default_factory=dict)
    timeout: float | None = Field(default=None, gt=0, le=3600,
                                  description="Seconds; defaults to the client's timeout")


class ExecuteResponse(BaseModel):
    success: bool
    result: Any = None
    error: str | None = None
    latency_ms: float
    client: str
    tool: str


class ClientStatus(BaseModel):
    status: str
    transport: str
    tool_count: int
    last_error: str | None = None
    last_error_at: str | None = None
    last_call_latency_ms: float | None = None
    connected_since: str | None = None
    last_checked_at: str | None = None
    reconnects: int | None = None
    call_timeout_seconds: float | None = None


class StatusResponse(BaseModel):
    status: str
    connected_clients: list[str]
    available_tools: int
    last_health_check: str
    clients: dict[str, ClientStatus]
    config_error: str | None = None


class WorkspaceFile(BaseModel):
    path: str
    size: int
    modified: str


class ImportResult(BaseModel):
    imported: int
    bytes: int
    files: list[WorkspaceFile]
