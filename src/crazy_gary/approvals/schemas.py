"""API shapes of the approval routes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from crazy_gary.kit.bodies import RequestBody

ApprovalStatus = Literal["pending", "approved", "denied", "expired", "cancelled"]


class ApprovalRead(BaseModel):
    id: str
    task_id: str
    tool: str = Field(description="client.tool")
    tool_call_id: str
    arguments: Any = Field(default=None, description="What the model asked to run with")
    reason: str = Field(description="The model's text for that turn, or `interrupted` / "
                                    "`loop_suspected`")
    status: ApprovalStatus
    requested_at: str
    expires_at: str
    decided_at: str | None = None
    decided_arguments: Any = Field(default=None,
                                   description="The arguments that run (edited or as asked)")
    comment: str | None = None


class ApprovalDecision(RequestBody):
    decision: Literal["approve", "deny"]
    arguments: dict[str, Any] | None = Field(
        default=None, description="Edited arguments (approve only); checked against the "
                                  "tool's schema and run instead of the model's")
    comment: str | None = Field(default=None, max_length=2000,
                                description="Told to the model when denied")
