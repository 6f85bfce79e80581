"""API schemas of the heavy endpoints."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from crazy_gary.heavy.status import OrchestrationStatus, StepStatus
from crazy_gary.kit.bodies import WHOLE_NUMBER, RequestBody

MAX_STEPS = 50
MAX_STEP_NUMBER = 10_000


def _no_nul(value: str | None) -> str | None:
    if value is not None and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
StepNumber = Annotated[int, Field(ge=1, le=MAX_STEP_NUMBER), WHOLE_NUMBER]
AgentCount = Annotated[int, Field(ge=1, le=8), WHOLE_NUMBER]


class WorkflowStep(RequestBody):
    model_config = ConfigDict(extra="forbid")

    step: StepNumber = Field(description="Step number, unique in the workflow")
    tool: Text = Field(min_length=1, max_length=64)
    parameters: dict[str, Any] = Field(default_factory=dict)
    name: Text | None = Field(default=None, max_length=200, description="Shown in progress")
    depends_on: list[StepNumber] = Field(
        default_factory=list, max_length=MAX_STEPS,
        description="Earlier steps to wait for besides referenced ones")


class OrchestrationConfig(RequestBody):
    model_config = ConfigDict(extra="forbid")

    timeout: float = Field(default=3600, gt=0, le=86400, description="Seconds for the whole run")
    parallel: bool = False


class OrchestrateRequest(RequestBody):
    """Either a tool `workflow`, or a `query` for the multi-agent heavy mode."""

    model_config = ConfigDict(extra="forbid")

    workflow: list[WorkflowStep] | None = Field(default=None, min_length=1, max_length=MAX_STEPS)
    config: OrchestrationConfig = Field(default_factory=OrchestrationConfig)
    query: Text | None = Field(default=None, min_length=1, max_length=20000)
    num_agents: AgentCount = 4

    @model_validator(mode="after")
    def _one_mode(self) -> OrchestrateRequest:
        if (self.workflow is None) == (self.query is None):
            raise ValueError("give either a workflow or a query")
        return self


class OrchestrationStarted(BaseModel):
    orchestration_id: str
    status: OrchestrationStatus
    total_steps: int
    estimated_duration: float


class StepProgress(BaseModel):
    step: int
    name: str
    tool: str
    status: StepStatus
    progress: float
    duration: float | None
    started_at: str | None = None
    completed_at: str | None = None
    depends_on: list[int] = []
    error: str | None = None
    task_id: str | None = None
    usage: dict[str, Any] | None = None


class StepResult(BaseModel):
    step: int
    tool: str
    status: StepStatus
    result: Any = None
    error: str | None = None


class OrchestrationProgress(BaseModel):
    orchestration_id: str
    mode: str
    progress: float
    status: OrchestrationStatus
    current_step: int | None
    total_steps: int
    steps: list[StepProgress]
    estimated_time_remaining: float
    estimated_duration: float
    created_at: str | None
    started_at: str | None
    completed_at: str | None
    error: str | None = None
    query: str | None = None
    answer: str | None = None
    results: list[StepResult] | None = None
    artifacts: list[dict[str, Any]] | None = None


class ToolInfo(BaseModel):
    name: str
    description: str
    category: str
    parameters: dict[str, dict[str, Any]]


class ToolExecuteRequest(RequestBody):
    tool_name: str = Field(min_length=1, max_length=64)
    parameters: dict[str, Any] = Field(default_factory=dict)


class ToolExecuteResponse(BaseModel):
    result: Any
    execution_time: float
    success: bool
    error: str | None = None
