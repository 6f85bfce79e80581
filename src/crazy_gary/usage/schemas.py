"""Bodies and answers of the usage and quota routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from crazy_gary.kit.bodies import WHOLE_NUMBER, RequestBody

MonthlyTokens = Annotated[int, Field(ge=0, le=10**15), WHOLE_NUMBER]


class QuotaUpdate(RequestBody):
    """Monthly limits; `null` is unlimited, a limit left out keeps its value. Unknown
    fields are refused (a misspelt limit must not pass as "no change")."""

    model_config = ConfigDict(strict=True, extra="forbid")

    monthly_tokens: MonthlyTokens | None = Field(
        default=None, description="Prompt + completion tokens per UTC month")
    monthly_cost_usd: float | None = Field(default=None, ge=0, le=1e9,
                                           description="Model cost per UTC month, USD")


class QuotaUsed(BaseModel):
    tokens: int
    cost_usd: float


class QuotaRead(BaseModel):
    user_id: int
    monthly_tokens: int | None
    monthly_cost_usd: float | None
    used: QuotaUsed
    period: str = Field(description="The UTC month counted, YYYY-MM")
    resets_at: datetime
    exceeded: list[str] = Field(description="The limits used up (new work is refused)")


class UsageFigures(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost_usd: float
    tasks: int = Field(description="Tasks (chat turns included) with a model or tool call")
    model_calls: int
    tool_calls: int


class UsageGroup(UsageFigures):
    key: str | None = Field(description="The day (YYYY-MM-DD, UTC), model, tool "
                                        "(client.tool) or user id; null for calls "
                                        "without one (a tool call has no model)")


class UsageReport(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: datetime = Field(alias="from")
    to: datetime
    user_id: int | None = Field(description="The user counted; null: every user")
    group_by: str | None
    totals: UsageFigures
    groups: list[UsageGroup]
