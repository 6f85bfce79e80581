"""Prefixed public identifiers."""

from __future__ import annotations

import uuid


def new_id(prefix: str) -> str:
    """E.g. new_id("task") -> "task_123e4567-e89b-12d3-a456-426614174000"."""
    return f"{prefix}_{uuid.uuid4()}"
