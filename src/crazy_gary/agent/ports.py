"""What the agent loop depends on: small Protocols, and the typed values that cross them.

The loop and its steps know these and nothing of the hub's, the model service's or the
task table's internals; the process supplies the implementations (`crazy_gary.toolhub`'s
hub, `crazy_gary.llm.service`, `crazy_gary.tasks.state`, `crazy_gary.realtime.publish`).
Every value a step returns is a plain dataclass, so the engine can checkpoint it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from crazy_gary.errors import AppError
from crazy_gary.llm.types import ChatResult
from crazy_gary.tasks.schemas import TaskSpec
from crazy_gary.tasks.status import TaskStatus
from crazy_gary.toolhub.types import Tool, ToolResult

OnWait = Callable[[str], Awaitable[None]]


class ModelPort(Protocol):
    """Model calls (`crazy_gary.llm.service`)."""

    async def chat(self, model: str, messages: list[dict[str, Any]], *,
                   tools: list[dict[str, Any]] | None = None,
                   on_wait: OnWait | None = None) -> ChatResult: ...


class ToolPort(Protocol):
    """The tool catalogue and its execution (`crazy_gary.toolhub.ToolHub`); `execute`
    validates the parameters against the tool's schema (ValidationFailed) and runs it."""

    def list_tools(self) -> list[Tool]: ...

    def search(self, query: str, limit: int = 10) -> list[Tool]: ...

    def connecting(self, client: str | None = None) -> bool: ...

    async def execute(self, client: str, tool: str, parameters: dict[str, Any] | None, *,
                      user_id: int | str | None,
                      timeout: float | None = None) -> ToolResult: ...  # noqa: ASYNC109


class TaskStore(Protocol):
    """The task's state, written only through these (`crazy_gary.tasks.state`)."""

    async def begin(self, task_id: str) -> TaskSpec | None: ...

    async def set_phase(self, task_id: str, phase: str, reason: str | None = None) -> None: ...

    async def save_plan(self, task_id: str, plan: list[str], progress: int) -> None: ...

    async def record_step(self, task_id: str, seq: int, **step: Any) -> None: ...

    async def record_plan_step(self, task_id: str, seq: int, plan: list[str], plan_progress: int,
                               **step: Any) -> None: ...

    async def recorded_step(self, task_id: str, seq: int) -> tuple[str, str | None] | None: ...
    async def quota_refusal(self, task_id: str) -> AppError | None: ...

    async def finish(self, task_id: str, *, status: TaskStatus, answer: str | None = None,
                     answered_by: str | None = None,
                     error: dict[str, str] | None = None) -> str: ...


class EventSink(Protocol):
    """Where state changes are announced (`crazy_gary.realtime.publish`); the task store
    publishes through it, the loop never does."""

    async def __call__(self, event: str, data: dict[str, Any], *,
                      user_id: int | None = None) -> Any: ...


@dataclass(frozen=True)
class Failure:
    """Why a step ended the task: an error code of the contract and a message."""

    code: str
    message: str

    def as_error(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class ToolCallRequest:
    """One function call the model asked for; `arguments` is the raw JSON text it sent."""

    id: str
    name: str
    arguments: str | None


@dataclass(frozen=True)
class ModelTurn:
    """A model step's outcome."""

    content: str | None
    reasoning: str | None
    tool_calls: list[ToolCallRequest]
    total_tokens: int
    model: str
    fell_back: bool = False


@dataclass(frozen=True)
class ToolOutcome:
    """A tool step's outcome: the text the model reads and `ok`/`error`/`invalid_call`."""

    content: str
    outcome: str


@dataclass(frozen=True)
class OfferedTool:
    """A hub tool as the model sees it: an OpenAI function named `<client>__<tool>`."""

    function: str
    tool: Tool


@dataclass(frozen=True)
class Toolset:
    """The tools offered to one task (fixed for the task's life, so replays agree)."""

    tools: list[OfferedTool] = field(default_factory=list)

    def schemas(self) -> list[dict[str, Any]]:
        """The OpenAI `tools` parameter."""
        return [{"type": "function", "function": {
            "name": o.function, "description": (o.tool.description or o.tool.name)[:1000],
            "parameters": o.tool.schema}} for o in self.tools]

    def find(self, function: str) -> Tool | None:
        return next((o.tool for o in self.tools if o.function == function), None)

    def names(self) -> list[str]:
        return sorted(o.function for o in self.tools)
