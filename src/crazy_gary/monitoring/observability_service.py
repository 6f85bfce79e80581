"""Read-outs over the real spans (this process's span store) and the event log."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crazy_gary import runtime
from crazy_gary.kit.clock import iso
from crazy_gary.kit.pagination import Page
from crazy_gary.observability.store import TraceSummary
from crazy_gary.realtime.service import counts_by_kind

AGENT_EVENT_PREFIXES = ("agent", "orchestration", "heavy", "chat", "tool")


def _trace_view(s: TraceSummary) -> dict[str, Any]:
    end = s.end_ns if s.running == 0 and s.end_ns else time.time_ns()
    return {
        "trace_id": format(s.trace_id, "032x"),
        "span_id": format(s.span_id, "016x"),
        "operation_name": s.operation_name,
        "start_time": iso(datetime.fromtimestamp(s.start_ns / 1e9, tz=UTC)),
        "duration": round((end - s.start_ns) / 1e6, 2),
        "status": "running" if s.running else ("error" if s.error else "ok"),
        "span_count": s.span_count,
        "tags": s.tags,
    }


def active_traces(*, user_id: int | None, page: Page) -> tuple[list[dict[str, Any]], int]:
    """Running traces first, then the most recent finished ones, and how many there are.
    `user_id` None = all."""
    summaries = runtime.current().telemetry.spans.snapshot()
    if user_id is not None:
        summaries = [s for s in summaries if s.tags.get("user_id") == str(user_id)]
    summaries.sort(key=lambda s: (s.running == 0, -s.start_ns))
    chosen = summaries[page.offset:page.offset + page.limit]
    return [_trace_view(s) for s in chosen], len(summaries)


async def metrics(session: AsyncSession) -> dict[str, Any]:
    totals = runtime.current().telemetry.spans.totals()
    by_kind: dict[str, int] = totals["spans_by_kind"]
    traces = totals["traces_total"]
    events = await counts_by_kind(session)
    return {
        "traces": {
            "total": traces,
            "error_rate": round(totals["traces_failed"] / traces, 4) if traces else 0.0,
            "average_latency": round(totals["latency_sum_ms"] / traces, 2) if traces else 0.0,
        },
        "spans": {
            "total": sum(by_kind.values()),
            "db_spans": by_kind.get("db", 0),
            "external_spans": totals["external_spans"],
            "by_kind": by_kind,
        },
        "events": {
            "total": sum(events.values()),
            "agent_events": sum(n for k, n in events.items()
                                if k.startswith(AGENT_EVENT_PREFIXES)),
            "task_events": sum(n for k, n in events.items() if k.startswith("task")),
            "by_kind": events,
        },
    }
