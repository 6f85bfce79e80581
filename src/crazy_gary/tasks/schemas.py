"""Bodies of the task routes and the snapshot other domains read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator

from crazy_gary.approvals.schemas import ApprovalRead
from crazy_gary.kit.bodies import WHOLE_NUMBER, RequestBody
from crazy_gary.kit.tool_policy import PolicyError, check_glob
from crazy_gary.llm.names import ModelSpelling
from crazy_gary.tasks.status import TaskStatus

Priority = Literal["low", "medium", "high", "critical"]
Status = TaskStatus
MaxSteps = Annotated[int, Field(ge=1, le=200), WHOLE_NUMBER]
TokenBudget = Annotated[int, Field(ge=100, le=10_000_000), WHOLE_NUMBER]


PolicyAction = Literal["allow", "ask", "deny"]


class PolicyRule(RequestBody):
    match: str = Field(min_length=1, max_length=200,
                       description="Glob on 'client.tool' ('*' any run, '?' one character)")
    action: PolicyAction

    @field_validator("match")
    @classmethod
    def _glob(cls, value: str) -> str:
        try:
            return check_glob(value, "match")
        except PolicyError as exc:
            raise ValueError(str(exc)) from None


class ToolPolicy(RequestBody):
    """A task's tool policy: the first matching rule wins, else `default`. It can only make
    the servers' policy stricter (deny > ask > allow), never looser."""

    default: PolicyAction | None = None
    rules: list[PolicyRule] = Field(default_factory=list, max_length=100)


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
    tool_policy: ToolPolicy | None = Field(
        default=None, description="allow / ask / deny per tool (stricter than the servers' only)")
    approval_timeout_seconds: float | None = Field(
        default=None, gt=0, le=7 * 86_400,
        description="How long an approval waits before it expires (APPROVAL_TIMEOUT_SECONDS)")

    @field_validator("title", "description")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class TaskRetry(RequestBody):
    """Optional overrides for a retry; omitted values are the retried task's."""

    max_steps: MaxSteps | None = Field(
        default=None, description="Model turns allowed, counting the carried-over ones")
    token_budget: TokenBudget | None = Field(
        default=None, description="Total tokens allowed, counting the carried-over steps")
    model: ModelSpelling | None = Field(
        default=None, description="The model for the calls still to make")


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
    retry_of: str | None = Field(default=None,
                                 description="The failed or stopped task this one retries")
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
    pending_approvals: list[ApprovalRead] = Field(
        default_factory=list, description="Tool calls waiting for the owner's decision")


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
    # {"default": action | None, "rules": [{"match", "action"}]}, validated at creation
    tool_policy: dict[str, Any] | None = None
    approval_timeout_seconds: float | None = None

    @classmethod
    def of(cls, data: dict[str, Any] | None) -> TaskOptions:
        data = data or {}
        return cls(max_steps=data.get("max_steps"), token_budget=data.get("token_budget"),
                   timeout_seconds=data.get("timeout_seconds"), tools=data.get("tools"),
                   plan=bool(data.get("plan", True)), tool_policy=data.get("tool_policy"),
                   approval_timeout_seconds=data.get("approval_timeout_seconds"))


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
