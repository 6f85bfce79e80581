"""The two model steps of the multi-agent heavy mode (internal tools, not listed):
heavy_questions (20b writes one sub-question per agent) and heavy_synthesis (120b
writes one answer from the agents' answers, saying what is missing)."""

from __future__ import annotations

import json
import re
from typing import Any

from crazy_gary.errors import AppError
from crazy_gary.heavy.tools import register
from crazy_gary.heavy.tools.base import Tool, ToolContext, ToolError
from crazy_gary.heavy.tools.model_calls import ask_model
from crazy_gary.llm.types import ChatResult

ANGLES = ("research", "analysis", "alternatives", "verification", "risks",
          "practical application", "counterarguments", "evidence quality")
QUESTION_MODEL = "gpt-oss-20b"
SYNTHESIS_MODEL = "gpt-oss-120b"
MAX_ANSWER_CHARS = 12000

QUESTIONS_SYSTEM = (
    "You split a hard question into focused sub-questions for a team of research agents. "
    "Each agent works alone with tools, so each sub-question must stand on its own. "
    'Reply with JSON only: {"questions": [{"angle": "...", "question": "..."}, ...]}.')
SYNTHESIS_SYSTEM = (
    "You combine the answers of several research agents into one answer to the user's "
    "question. Reconcile disagreements, keep what is supported, say what remains uncertain, "
    "and do not mention the agents unless it matters.")


def usage_of(result: ChatResult) -> dict[str, int]:
    return {"prompt_tokens": result.usage.prompt_tokens,
            "completion_tokens": result.usage.completion_tokens,
            "total_tokens": result.usage.total_tokens}


class HeavyQuestions(Tool):
    name = "heavy_questions"
    title = "Question Planning"
    description = "Write one focused sub-question per agent"
    category = "agents"
    public = False
    parameters = {
        "query": {"type": "string", "minLength": 1, "required": True, "description": "Question"},
        "num_agents": {"type": "integer", "minimum": 1, "maximum": 8, "required": True,
                       "description": "How many sub-questions"},
    }
    typical_seconds = 10.0

    async def run(self, ctx: ToolContext, params: dict[str, Any]) -> Any:
        query, n = params["query"], params["num_agents"]
        angles = [ANGLES[i % len(ANGLES)] for i in range(n)]
        prompt = (f"Question: {query}\n\nWrite {n} sub-question(s), one for each of these "
                  f"angles in this order: {', '.join(angles)}.")
        try:
            result = await ask_model(ctx, QUESTION_MODEL, [
                {"role": "system", "content": QUESTIONS_SYSTEM},
                {"role": "user", "content": prompt}])
        except AppError as exc:
            raise ToolError(f"question planning model unavailable: {exc.message}") from exc
        written = parse_questions(result.content or "")
        questions = []
        for i, angle in enumerate(angles):
            if i < len(written):
                questions.append({"angle": written[i].get("angle") or angle,
                                  "question": written[i]["question"], "source": "model"})
            else:  # the model wrote fewer than asked: a plain angle on the question
                questions.append({"angle": angle, "source": "template",
                                  "question": f"Focusing on {angle}: {query}"})
        return {"questions": questions, "model": result.model, "usage": usage_of(result)}


def parse_questions(text: str) -> list[dict[str, str]]:
    """Sub-questions from the model's reply: JSON (object or list), else numbered lines."""
    cleaned = re.sub(r"^```(?:json)?|```$", "", text.strip(), flags=re.MULTILINE).strip()
    start = min([i for i in (cleaned.find("{"), cleaned.find("[")) if i >= 0], default=-1)
    if start >= 0:
        try:
            data = json.loads(cleaned[start:])
        except json.JSONDecodeError:
            data = None
        if isinstance(data, dict):
            data = data.get("questions")
        if isinstance(data, list):
            out = []
            for item in data:
                if isinstance(item, str) and item.strip():
                    out.append({"question": item.strip()})
                elif isinstance(item, dict) and str(item.get("question", "")).strip():
                    out.append({"question": str(item["question"]).strip(),
                                "angle": str(item.get("angle") or "")})
            return out
    lines = [re.sub(r"^\s*(?:\d+[.)]|[-*])\s*", "", ln).strip() for ln in cleaned.splitlines()]
    return [{"question": ln} for ln in lines if ln.endswith("?")]


class HeavySynthesis(Tool):
    name = "heavy_synthesis"
    title = "Synthesis"
    description = "Write one answer from the agents' answers"
    category = "agents"
    public = False
    parameters = {
        "query": {"type": "string", "minLength": 1, "required": True, "description": "Question"},
        "agents": {"type": "array", "items": {"type": "integer"}, "required": True,
                   "description": "Steps of the agents"},
    }
    typical_seconds = 20.0

    async def run(self, ctx: ToolContext, params: dict[str, Any]) -> Any:
        used, missing = [], []
        for step in params["agents"]:
            prev = ctx.previous.get(step) or {"status": "missing"}
            result = prev.get("result") or {}
            if prev.get("status") == "completed" and result.get("answer"):
                used.append({"step": step, "answer": result["answer"]})
            else:
                missing.append({"step": step, "status": prev.get("status"),
                                "error": prev.get("error")})
        if not used:
            raise ToolError("no agent finished, nothing to synthesise")
        parts = [f"Question: {params['query']}", ""]
        for i, u in enumerate(used, 1):
            parts.append(f"Answer {i}:\n{u['answer'][:MAX_ANSWER_CHARS]}\n")
        if missing:
            parts.append(f"({len(missing)} of {len(params['agents'])} agents did not finish; "
                         "point out what their angles could not cover.)")
        try:
            result = await ask_model(ctx, SYNTHESIS_MODEL, [
                {"role": "system", "content": SYNTHESIS_SYSTEM},
                {"role": "user", "content": "\n".join(parts)}])
        except AppError as exc:
            raise ToolError(f"synthesis model unavailable: {exc.message}") from exc
        answer = result.content or ""
        if missing:
            which = ", ".join(f"step {m['step']} ({m['status']})" for m in missing)
            answer += (f"\n\nNote: {len(missing)} of {len(params['agents'])} agents did not "
                       f"finish ({which}); this answer is based on the other {len(used)}.")
        return {"answer": answer, "model": result.model, "usage": usage_of(result),
                "agents_used": [u["step"] for u in used], "missing": missing}


register(HeavyQuestions())
register(HeavySynthesis())
