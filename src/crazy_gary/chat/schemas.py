"""Bodies of the chat routes."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ChatRequest(BaseModel):
    message: str = Field(min_length=1, max_length=20_000)
    context: str | None = Field(default=None, max_length=20_000)
    conversation_id: str | None = Field(default=None, min_length=1, max_length=64,
                                        pattern=r"^[A-Za-z0-9_.:-]+$")
    model: str | None = Field(default=None, max_length=64)


class ChatResponse(BaseModel):
    response: str
    task_id: str
    conversation_id: str
