"""API bodies of /api/endpoints (the contract's shapes)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class EndpointStatus(BaseModel):
    status: str = Field(description="running, sleeping, waking, stopping, failed or unreachable")
    url: str | None
    last_activity: int | None = Field(description="Unix time of the last model call")
    wake_time: int | None
    sleep_time: int | None
    auto_sleep_in: int | None = Field(description="Seconds until auto-sleep; null when not "
                                      "running or not manageable")
    provider: str = Field(description="hf, process, url or none (not configured)")
    manageable: bool = Field(description="Whether wake/sleep apply to it")
    last_error: str | None


class AllEndpointsStatus(BaseModel):
    success: bool = True
    endpoints: dict[str, EndpointStatus]


class OperationStarted(BaseModel):
    success: bool = True
    message: str
