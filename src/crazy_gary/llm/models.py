"""The one place a model name is normalised (the names themselves: `llm.names`)."""

from __future__ import annotations

from crazy_gary.errors import ValidationFailed
from crazy_gary.llm.names import ModelName


def normalise(name: str | None) -> ModelName:
    """`gpt-oss-20b`, `20b`, `openai/gpt-oss-20b` (any case) -> ModelName; else 400."""
    text = (name or "").strip().lower().removeprefix("openai/")
    for model in ModelName:
        if text in (model.value, model.key):
            return model
    allowed = ", ".join(ModelName)
    raise ValidationFailed([f"model: must be one of {allowed}"],
                           message=f"Unknown model '{name}'; allowed: {allowed}",
                           details={"allowed_models": list(ModelName)})
