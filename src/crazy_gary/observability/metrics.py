"""Prometheus metrics every domain records into (exposed at /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "crazy_gary_http_requests_total", "HTTP requests", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "crazy_gary_http_request_duration_seconds", "HTTP request latency", ["method", "route"]
)
TASKS = Counter("crazy_gary_tasks_total", "Agent tasks by final status", ["status"])
AGENT_STEPS = Counter("crazy_gary_agent_steps_total", "Agent steps executed", ["kind"])
MODEL_CALL_LATENCY = Histogram(
    "crazy_gary_model_call_duration_seconds", "Model call latency", ["model", "outcome"]
)
MODEL_TOKENS = Counter("crazy_gary_model_tokens_total", "Model tokens", ["model", "kind"])
TOOL_CALL_LATENCY = Histogram(
    "crazy_gary_tool_call_duration_seconds", "Tool call latency", ["client", "tool", "outcome"]
)
ENDPOINT_STATE = Gauge(
    "crazy_gary_endpoint_state", "1 for the endpoint's current state", ["model", "state"]
)
EVENTS_PUBLISHED = Counter("crazy_gary_events_total", "Events published", ["event"])
REALTIME_CLIENTS = Gauge(
    "crazy_gary_realtime_clients", "Connected live clients in this process", ["channel"]
)
