"""llm_generate: a prompt to a chosen model, optionally with the earlier steps' results."""

from __future__ import annotations

import json
from typing import Any

from crazy_gary.errors import AppError
from crazy_gary.heavy.tools import register
from crazy_gary.heavy.tools.base import Tool, ToolContext, ToolError
from crazy_gary.heavy.tools.model_calls import ask_model
from crazy_gary.llm.names import ModelName

MAX_CONTEXT_CHARS = 20000


class LlmGenerate(Tool):
    name = "llm_generate"
    title = "Text Generation"
    description = "Generate text with a language model from a prompt"
    category = "generation"
    parameters = {
        "prompt": {"type": "string", "minLength": 1, "maxLength": 100000,
                   "description": "What to ask the model", "required": True},
        "model": {"type": "string", "enum": [m.value for m in ModelName],
                  "default": "gpt-oss-120b", "description": "Model to ask", "required": False},
        "system": {"type": "string", "maxLength": 20000, "description": "System instructions",
                   "required": False},
        "include_previous": {"type": "boolean", "default": True,
                             "description": "Give the model the results of the earlier steps",
                             "required": False},
        "allow_fallback": {"type": "boolean", "default": True,
                           "description": "Answer with the other model if this one is "
                                          "unavailable", "required": False},
    }
    typical_seconds = 20.0

    async def run(self, ctx: ToolContext, params: dict[str, Any]) -> Any:
        prompt = params["prompt"]
        earlier = ctx.previous_results() if params.get("include_previous", True) else []
        if earlier:
            text = json.dumps(earlier, default=str)[:MAX_CONTEXT_CHARS]
            prompt = f"{prompt}\n\nResults of the earlier steps (JSON):\n{text}"
        messages = []
        if params.get("system"):
            messages.append({"role": "system", "content": params["system"]})
        messages.append({"role": "user", "content": prompt})
        await ctx.report_progress(5)
        try:
            result = await ask_model(ctx, params.get("model", "gpt-oss-120b"), messages,
                                     allow_fallback=params.get("allow_fallback", True))
        except AppError as exc:
            raise ToolError(f"model unavailable: {exc.message}") from exc
        return {"content": result.content or "", "model": result.model,
                "usage": {"prompt_tokens": result.usage.prompt_tokens,
                          "completion_tokens": result.usage.completion_tokens,
                          "total_tokens": result.usage.total_tokens},
                "finish_reason": result.finish_reason, "fell_back": result.fell_back,
                "latency_ms": round(result.latency_ms, 1)}


register(LlmGenerate())
