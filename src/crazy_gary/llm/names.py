"""The model names users may send: plain values (no server code), shared by the API schemas
and the client."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal


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
