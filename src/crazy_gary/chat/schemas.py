"""Bodies of the chat routes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from crazy_gary.kit.bodies import RequestBody
from crazy_gary.llm.names import ModelSpelling
from crazy_gary.tasks.schemas import ToolPolicy


class ChatRequest(RequestBody):
    message: str = Field(min_length=1, max_length=20_000)
    context: str | None = Field(default=None, max_length=20_000)
    conversation_id: str | None = Field(default=None, min_length=1, max_length=64,
                                        pattern=r"^[A-Za-z0-9_.:-]+$")
    model: ModelSpelling | None = Field(default=None,
                                    description="gpt-oss-120b or gpt-oss-20b (default: "
                                                "the configured task model)")
    tool_policy: ToolPolicy | None = Field(
        default=None, description="allow / ask / deny per tool, as on POST /api/tasks")


class ChatResponse(BaseModel):
    response: str
    task_id: str
    conversation_id: str
