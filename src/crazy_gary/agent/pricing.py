"""Estimated cost of a model call from the per-model prices in config."""

from __future__ import annotations

from crazy_gary.config import Settings


def estimate_cost(settings: Settings, model: str, prompt_tokens: int,
                  completion_tokens: int) -> float:
    """USD, from prices per million tokens; a model served under another id maps by suffix."""
    prices = settings.model_prices.get(model)
    if prices is None:
        for name, candidate in settings.model_prices.items():
            if model.endswith(name) or name.endswith(model.split("/")[-1]):
                prices = candidate
                break
    if not prices:
        return 0.0
    return (prompt_tokens * prices.get("input", 0.0)
            + completion_tokens * prices.get("output", 0.0)) / 1_000_000
