"""The tracer every domain opens spans with."""

from __future__ import annotations

from opentelemetry import trace

tracer = trace.get_tracer("crazy_gary")
