"""What a heavy tool is: a described parameter schema and an async run()."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from crazy_gary.toolhub.types import Tool as HubTool
from crazy_gary.toolhub.validation import schema_errors


class ToolError(Exception):
    """A failure the tool explains to the user (the step fails with this message)."""


async def _no_progress(_value: float) -> None:
    return None


@dataclass
class ToolContext:
    """Who runs the tool and what came before it."""

    user_id: int
    orchestration_id: str | None = None
    step: int | None = None
    # Earlier steps handed to this one: {step: {"tool", "status", "result", "error"}}.
    previous: dict[int, dict[str, Any]] = field(default_factory=dict)
    report_progress: Callable[[float], Awaitable[None]] = _no_progress

    def previous_results(self) -> list[Any]:
        """Results of the completed earlier steps, in step order."""
        return [
            p["result"] for _, p in sorted(self.previous.items())
            if p.get("status") == "completed" and p.get("result") is not None
        ]


class Tool(ABC):
    """A heavy tool. Subclasses set the class attributes and implement run(); it is
    described, like every tool, by the hub's `Tool` (`as_tool()`: one schema field)."""

    # Set in the class body, or per instance by a class that describes several tools.
    name: str
    title: str  # the step name shown in progress, e.g. "Code Analysis"
    description: str
    category: ClassVar[str]
    parameters: dict[str, dict[str, Any]]  # the contract's parameter description
    typical_seconds: ClassVar[float] = 10.0  # estimate before any run was recorded
    public: ClassVar[bool] = True  # listed by GET /api/heavy/tools
    standalone: ClassVar[bool] = True  # may run alone through POST /api/heavy/tools/execute

    @abstractmethod
    async def run(self, ctx: ToolContext, params: dict[str, Any]) -> Any:
        """Do the work; the result is the step's result."""

    def validate(self, params: dict[str, Any]) -> list[str]:
        """Checks beyond the schema made before a workflow runs (e.g. a hub tool exists)."""
        return []

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "category": self.category,
            "parameters": self.parameters,
        }

    def as_tool(self) -> HubTool:
        """This tool's description in the one tool type (client `heavy`)."""
        return HubTool(name=self.name, description=self.description,
                       schema=self.json_schema(), client="heavy")

    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema equivalent of `parameters`."""
        props: dict[str, Any] = {}
        required = []
        for pname, spec in self.parameters.items():
            props[pname] = {k: v for k, v in spec.items() if k not in ("required", "description")}
            if spec.get("required"):
                required.append(pname)
        return {"type": "object", "properties": props, "required": required,
                "additionalProperties": False}

    def check(self, params: dict[str, Any], *,
              unchecked: frozenset[str] = frozenset()) -> list[str]:
        """Messages for parameters that break the schema; `unchecked` values are present
        but only known at run time (references to earlier steps)."""
        instance = {k: v for k, v in params.items() if k not in unchecked}
        schema = self.as_tool().schema
        schema["required"] = [r for r in schema["required"] if r not in unchecked]
        messages = schema_errors(schema, instance)
        if not messages and not unchecked:
            messages = self.validate(instance)
        return messages

    def with_defaults(self, params: dict[str, Any]) -> dict[str, Any]:
        out = dict(params)
        for pname, spec in self.parameters.items():
            if pname not in out and "default" in spec:
                out[pname] = spec["default"]
        return out


def contract_parameters(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A JSON Schema's properties in the contract's form (each with `required`)."""
    required = set(schema.get("required") or [])
    out = {}
    for pname, spec in (schema.get("properties") or {}).items():
        entry = {k: v for k, v in spec.items() if k != "title"}
        entry.setdefault("description", pname.replace("_", " "))
        entry["required"] = pname in required
        out[pname] = entry
    return out
