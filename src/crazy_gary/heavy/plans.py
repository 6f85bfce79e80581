"""Turn a request into checked step plans before anything runs.

Sequential workflows: each step waits for every earlier step and sees their results.
Parallel workflows: a step waits only for the steps it references (or lists in
`depends_on`). Multi-agent runs: plan questions, N agents, one synthesis.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crazy_gary.errors import ValidationFailed
from crazy_gary.heavy.references import referenced_steps
from crazy_gary.heavy.schemas import WorkflowStep
from crazy_gary.heavy.tools import get_tool
from crazy_gary.heavy.tools.multi_agent import ANGLES

AGENT_SHARE_OF_TIMEOUT = 0.75


@dataclass
class PlannedStep:
    step: int
    position: int
    name: str
    tool: str
    parameters: dict[str, Any]
    depends_on: list[int] = field(default_factory=list)
    needs_success: bool = True


def plan_workflow(steps: list[WorkflowStep], *, parallel: bool) -> list[PlannedStep]:
    """Checked plans, or ValidationFailed listing every problem found."""
    errors: list[str] = []
    numbers = [s.step for s in steps]
    seen: set[int] = set()
    for n in numbers:
        if n in seen:
            errors.append(f"step {n}: duplicate step number")
        seen.add(n)
    edges: dict[int, set[int]] = {}
    for s in steps:
        tool = get_tool(s.tool)
        refs: set[int] = set()
        for value in s.parameters.values():
            refs |= referenced_steps(value)
        needs = refs | set(s.depends_on)
        edges.setdefault(s.step, set()).update(needs)
        for n in sorted(needs):
            if n not in seen:
                errors.append(f"step {s.step}: refers to step {n}, which does not exist")
            elif n == s.step:
                errors.append(f"step {s.step}: refers to itself (cycle)")
            elif n > s.step:
                errors.append(f"step {s.step}: refers to later step {n}")
        if tool is None or not tool.public:
            errors.append(f"step {s.step}: unknown tool '{s.tool}'")
            continue
        unchecked = frozenset(k for k, v in s.parameters.items() if referenced_steps(v))
        errors += [f"step {s.step} ({s.tool}): {m}"
                   for m in tool.check(s.parameters, unchecked=unchecked)]
    cycle = _find_cycle(edges)
    if cycle and len(cycle) > 2:  # self-references are reported above
        errors.append("cycle between steps " + " -> ".join(map(str, cycle)))
    if errors:
        raise ValidationFailed(errors, message="Invalid workflow")

    ordered = sorted(steps, key=lambda s: s.step)
    plans = []
    for position, s in enumerate(ordered):
        tool = get_tool(s.tool)
        assert tool is not None
        deps = set(edges[s.step])
        if not parallel:
            deps |= {o.step for o in ordered[:position]}
        plans.append(PlannedStep(step=s.step, position=position, name=s.name or tool.title,
                                 tool=s.tool, parameters=s.parameters,
                                 depends_on=sorted(deps)))
    return plans


def plan_multi_agent(query: str, num_agents: int, *, timeout: float) -> list[PlannedStep]:
    """Step 1 writes the sub-questions, steps 2..N+1 are the agents, the last synthesises.

    Agents get most of the run's time; the rest is kept for the synthesis, so an agent
    that runs out of time fails alone instead of taking the whole run with it.
    """
    agents = list(range(2, num_agents + 2))
    agent_timeout = max(1.0, round(timeout * AGENT_SHARE_OF_TIMEOUT, 1))
    plans = [PlannedStep(step=1, position=0, name="Question Planning", tool="heavy_questions",
                         parameters={"query": query, "num_agents": num_agents})]
    for i, n in enumerate(agents):
        plans.append(PlannedStep(
            step=n, position=n - 1, name=f"Agent {i + 1}: {ANGLES[i % len(ANGLES)]}",
            tool="agent",
            parameters={"task": f"$steps.1.result.questions.{i}.question",
                        "context": f"This is one part of a larger question: {query}",
                        "timeout": agent_timeout},
            depends_on=[1]))
    last = num_agents + 2
    plans.append(PlannedStep(step=last, position=last - 1, name="Synthesis",
                             tool="heavy_synthesis",
                             parameters={"query": query, "agents": agents},
                             depends_on=agents, needs_success=False))
    return plans


def _find_cycle(edges: dict[int, set[int]]) -> list[int] | None:
    """A cycle in the dependency graph, as a path, or None."""
    state: dict[int, int] = {}
    stack: list[int] = []

    def visit(n: int) -> list[int] | None:
        state[n] = 1
        stack.append(n)
        for m in sorted(edges.get(n, ())):
            if m not in edges:
                continue
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state and (found := visit(m)):
                return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(edges):
        if n not in state and (found := visit(n)):
            return found
    return None


def critical_path(costs: dict[int, float], deps: dict[int, list[int]]) -> float:
    """Length of the longest dependency chain (the estimate of a run's duration)."""
    finish: dict[int, float] = {}
    for n in sorted(costs):
        start = max((finish.get(d, 0.0) for d in deps.get(n, [])), default=0.0)
        finish[n] = start + costs[n]
    return max(finish.values(), default=0.0)
