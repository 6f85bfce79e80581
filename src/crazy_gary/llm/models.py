"""The model names users may send, and the one place a name is normalised."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from crazy_gary.errors import ValidationFailed


class ModelName(StrEnum):
    """A user-facing model name; `key` is its endpoint's key in the settings."""

    GPT_OSS_120B = "gpt-oss-120b"
    GPT_OSS_20B = "gpt-oss-20b"

    @property
    def key(self) -> str:
        return self.value.removeprefix("gpt-oss-")

    @classmethod
    def of_key(cls, key: str) -> ModelName:
        return cls(f"gpt-oss-{key}")


# The spellings a request may name a model by (the API schema's enum); `normalise` maps
# each to its ModelName.
ModelSpelling = Literal["gpt-oss-120b", "gpt-oss-20b", "120b", "20b",
                        "openai/gpt-oss-120b", "openai/gpt-oss-20b"]


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
