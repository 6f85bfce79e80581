"""What a model call returns: plain dataclasses that survive a JSON checkpoint."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class ToolCall:
    """One function call the model asked for; `arguments` is the raw JSON text it sent."""

    id: str
    name: str
    arguments: str


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


@dataclass
class ChatResult:
    """A finished model answer. `model` is the user-facing name that actually answered."""

    content: str | None
    reasoning: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    model: str = ""
    finish_reason: str | None = None
    latency_ms: float = 0.0
    fell_back: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChatResult:
        data = dict(data)
        data["tool_calls"] = [ToolCall(**c) for c in data.get("tool_calls") or []]
        data["usage"] = Usage(**(data.get("usage") or {}))
        return cls(**data)

    def assistant_message(self) -> dict[str, Any]:
        """The message to append to the conversation (reasoning kept for the next turn)."""
        message: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.reasoning:
            message["reasoning_content"] = self.reasoning
        if self.tool_calls:
            message["tool_calls"] = [
                {"id": c.id, "type": "function",
                 "function": {"name": c.name, "arguments": c.arguments}}
                for c in self.tool_calls
            ]
        return message


@dataclass
class ChatChunk:
    """A piece of streamed answer text (`delta`) or reasoning (`reasoning`)."""

    delta: str = ""
    reasoning: str = ""
