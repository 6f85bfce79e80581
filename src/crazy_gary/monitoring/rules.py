"""Alert rules: readings in, one verdict per rule out (firing, clear, or not enough data)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crazy_gary.config import Settings

# "unreachable": the endpoint's provider API did not answer (endpoints.health).
FAILED_STATES = {"unhealthy", "failed", "down", "error", "updatefailed", "unreachable"}
MIN_REQUESTS = 20  # error rate and p95 need a few requests before they mean anything


@dataclass(frozen=True)
class Verdict:
    rule: str
    firing: bool
    type: str = "performance"
    severity: str = "medium"
    message: str = ""
    component: str = "system"
    value: float | None = None


@dataclass
class Readings:
    cpu_average: float | None = None  # over the sustain window, None when too few samples
    memory_percent: float | None = None
    disk_percent: float | None = None
    requests_5m: int = 0
    errors_5m: int = 0
    p95_ms_5m: float | None = None
    components: dict[str, dict[str, Any]] | None = None


def evaluate_rules(settings: Settings, r: Readings) -> list[Verdict]:
    out: list[Verdict] = []
    if r.cpu_average is not None:
        out.append(Verdict("cpu_high", r.cpu_average > settings.alert_cpu_percent, "performance",
                           "high" if r.cpu_average > 95 else "medium",
                           f"High CPU usage detected (>{settings.alert_cpu_percent:g}%): "
                           f"{r.cpu_average:.1f}% sustained", "system", r.cpu_average))
    if r.memory_percent is not None:
        out.append(Verdict("memory_high", r.memory_percent > settings.alert_memory_percent,
                           "resource", "high",
                           f"High memory usage (>{settings.alert_memory_percent:g}%): "
                           f"{r.memory_percent:.1f}%", "system", r.memory_percent))
    if r.disk_percent is not None:
        out.append(Verdict("disk_high", r.disk_percent > settings.alert_disk_percent,
                           "resource", "high",
                           f"Disk almost full (>{settings.alert_disk_percent:g}%): "
                           f"{r.disk_percent:.1f}%", "system", r.disk_percent))
    if r.requests_5m >= MIN_REQUESTS:
        rate = r.errors_5m / r.requests_5m
        out.append(Verdict("error_rate_high", rate > settings.alert_error_rate, "error", "high",
                           f"Error rate {rate:.1%} over 5 minutes "
                           f"(>{settings.alert_error_rate:.0%})", "api", round(rate, 4)))
        if r.p95_ms_5m is not None:
            out.append(Verdict("latency_p95_high", r.p95_ms_5m > settings.alert_p95_latency_ms,
                               "performance", "medium",
                               f"p95 latency {r.p95_ms_5m:.0f} ms over 5 minutes "
                               f"(>{settings.alert_p95_latency_ms:g} ms)", "api", r.p95_ms_5m))
    out.extend(_component_verdicts(r.components or {}))
    return out


def _failed(item: dict[str, Any]) -> bool:
    state = str(item.get("status") or item.get("state") or "").lower()
    return state in FAILED_STATES


def _component_verdicts(components: dict[str, dict[str, Any]]) -> list[Verdict]:
    out: list[Verdict] = []
    labels = {"huggingface_api": ("Model endpoint", "endpoints"), "mcp": ("MCP server", "servers"),
              "redis": ("Redis", None)}
    for name, (label, items_key) in labels.items():
        result = components.get(name)
        if result is None or result.get("status") == "not_configured":
            continue
        down = _failed(result)
        out.append(Verdict(f"component:{name}", down, "availability", "high",
                           f"{label} check failing: {result.get('error') or result.get('status')}",
                           name))
        items = result.get(items_key) if items_key else None
        if isinstance(items, dict):
            for item_name, item in items.items():
                if isinstance(item, dict):
                    verb = "failed" if name == "huggingface_api" else "down"
                    out.append(Verdict(f"{name}:{item_name}", _failed(item), "availability",
                                       "high", f"{label} {item_name} {verb}", name))
    return out
