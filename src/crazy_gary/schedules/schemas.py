"""Bodies of the schedule routes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from crazy_gary.kit.bodies import RequestBody
from crazy_gary.llm.names import ModelSpelling
from crazy_gary.schedules import cron as cron_rules
from crazy_gary.schedules.status import RunStatus, Trigger
from crazy_gary.tasks.schemas import MaxSteps, Priority, TokenBudget, ToolPolicy

# A literal rather than the StrEnum: strict bodies take a JSON string here.
OverlapPolicy = Literal["skip", "queue", "allow"]
CRON_DESCRIPTION = ("5 fields (minute hour day-of-month month day-of-week), or 6 with a "
                    "seconds field first, e.g. `0 9 * * MON-FRI` or `*/30 * * * * *`")


class TaskTemplate(RequestBody):
    """The task each tick creates (the fields of POST /api/tasks)."""

    title: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=20_000)
    model: ModelSpelling | None = Field(default=None,
                                        description="gpt-oss-120b (default) or gpt-oss-20b")
    priority: Priority = "medium"
    max_steps: MaxSteps | None = None
    token_budget: TokenBudget | None = None
    timeout_seconds: float | None = Field(default=None, gt=0, le=86_400)
    tools: list[str] | None = Field(default=None, max_length=200)
    tool_policy: ToolPolicy | None = Field(
        default=None, description="Each task's tool policy (checked here, as on POST /api/tasks)")

    @field_validator("title", "description")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


def _cron(value: str) -> str:
    return cron_rules.check_cron(value)


def _timezone(value: str) -> str:
    cron_rules.zone(value)
    return value


class ScheduleCreate(RequestBody):
    name: str = Field(min_length=1, max_length=200)
    cron: str = Field(min_length=1, max_length=200, description=CRON_DESCRIPTION)
    timezone: str = Field(default="UTC", min_length=1, max_length=cron_rules.MAX_ZONE_LENGTH,
                          description="IANA time zone the cron is read in")
    task: TaskTemplate
    overlap: OverlapPolicy = Field(default="skip", description=(
        "While the previous run is unfinished: skip the tick, queue it, or allow both"))
    enabled: bool = True
    catch_up: bool = Field(default=False, description=(
        "After every process was down, run the last missed tick (at most one)"))

    @field_validator("cron")
    @classmethod
    def _check_cron(cls, value: str) -> str:
        return _cron(value)

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        return _timezone(value)


class ScheduleUpdate(RequestBody):
    """PATCH: only the fields given change."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    cron: str | None = Field(default=None, min_length=1, max_length=200,
                             description=CRON_DESCRIPTION)
    timezone: str | None = Field(default=None, min_length=1,
                                 max_length=cron_rules.MAX_ZONE_LENGTH)
    task: TaskTemplate | None = None
    overlap: OverlapPolicy | None = None
    enabled: bool | None = None
    catch_up: bool | None = None

    @field_validator("cron")
    @classmethod
    def _check_cron(cls, value: str | None) -> str | None:
        return None if value is None else _cron(value)

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str | None) -> str | None:
        return None if value is None else _timezone(value)


class ScheduleRead(BaseModel):
    id: str
    name: str
    cron: str
    timezone: str
    task: dict[str, Any]
    overlap: OverlapPolicy
    enabled: bool
    catch_up: bool
    next_run_at: str | None = Field(description="The next tick (UTC); null while disabled")
    last_run_at: str | None = None
    created_at: str
    updated_at: str


class ScheduleRunRead(BaseModel):
    id: int
    status: RunStatus
    trigger: Trigger
    task_id: str | None
    reason: str | None = Field(default=None, description="Why a tick was skipped")
    scheduled_for: str
    created_at: str


class RunStarted(BaseModel):
    task_id: str
