"""Bodies of the task routes and the snapshot other domains read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator

from crazy_gary.kit.bodies import WHOLE_NUMBER, RequestBody
from crazy_gary.llm.names import ModelSpelling
from crazy_gary.tasks.status import TaskStatus

Priority = Literal["low", "medium", "high", "critical"]
Status = TaskStatus
MaxSteps = Annotated[int, Field(ge=1, le=200), WHOLE_NUMBER]
TokenBudget = Annotated[int, Field(ge=100, le=10_000_000), WHOLE_NUMBER]


class TaskCreate(RequestBody):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=20_000)
    model: ModelSpelling | None = Field(default=None,
                                    description="gpt-oss-120b (default) or gpt-oss-20b")
    priority: Priority = "medium"
    auto_start: bool = Field(default=False, description="Queue the task at once")
    max_steps: MaxSteps | None = Field(
        default=None, description="Model turns allowed (default 20)")
    token_budget: TokenBudget | None = Field(
        default=None, description="Total tokens allowed across model calls")
    timeout_seconds: float | None = Field(default=None, gt=0, le=86_400,
                                          description="Wall-clock limit once running")
    tools: list[str] | None = Field(
        default=None, max_length=200,
        description="Allow-list of tools ('client.tool' or 'client.*'); omitted = all tools")

    @field_validator("title", "description")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class TaskCreated(BaseModel):
    task_id: str
    status: Status


class StatusOnly(BaseModel):
    status: str


class TaskRead(BaseModel):
    id: str
    title: str
    description: str
    status: Status
    model: str
    priority: Priority
    progress: int
    phase: str | None = None
    cost_usd: float = Field(default=0.0, description="Model cost so far, USD (MODEL_PRICES)")
    created_at: str
    updated_at: str


class TaskError(BaseModel):
    code: str
    message: str


class TaskDetail(TaskRead):
    phase_reason: str | None = None
    plan: list[str] | None = None
    origin: str = "api"
    parent_id: str | None = None
    conversation_id: str | None = None
    schedule_id: str | None = Field(default=None,
                                    description="The schedule that created it (origin schedule)")
    started_at: str | None = None
    completed_at: str | None = None
    result: dict[str, Any] | None = Field(
        default=None,
        description="answer, steps (tool, arguments, outcome), artifacts, usage, answered_by",
    )
    error: TaskError | None = None


class StatsRead(BaseModel):
    total_tasks: int
    active_tasks: int
    completed_tasks: int
    failed_tasks: int
    average_completion_time: float
    success_rate: float


@dataclass(frozen=True)
class TaskOptions:
    """The limits and allow-list a task was created with (None: the settings' default)."""

    max_steps: int | None = None
    token_budget: int | None = None
    timeout_seconds: float | None = None
    tools: list[str] | None = None
    plan: bool = True

    @classmethod
    def of(cls, data: dict[str, Any] | None) -> TaskOptions:
        data = data or {}
        return cls(max_steps=data.get("max_steps"), token_budget=data.get("token_budget"),
                   timeout_seconds=data.get("timeout_seconds"), tools=data.get("tools"),
                   plan=bool(data.get("plan", True)))


@dataclass(frozen=True)
class TaskSpec:
    """What the agent needs to run a task, read when the task starts (a checkpointed value)."""

    task_id: str
    user_id: int
    title: str
    description: str
    model: str
    started_at: float  # epoch seconds
    origin: str = "api"
    conversation_id: str | None = None
    options: TaskOptions = field(default_factory=TaskOptions)
    history: list[dict[str, str]] = field(default_factory=list)

    @property
    def is_chat(self) -> bool:
        return self.origin == "chat"
