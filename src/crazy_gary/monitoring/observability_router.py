"""Observability read-outs: traces and trace/span/event metrics (sign-in required)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from crazy_gary.auth.dependencies import CurrentUser
from crazy_gary.db import SessionDep
from crazy_gary.kit.openapi import error_responses
from crazy_gary.kit.pagination import PageDep, set_page_headers
from crazy_gary.monitoring import observability_service as service
from crazy_gary.monitoring.observability_schemas import ObservabilityMetrics, TraceRead

router = APIRouter(prefix="/api/observability", tags=["observability"],
                   responses=error_responses(401, 429))


@router.get("/metrics", response_model=ObservabilityMetrics)
async def observability_metrics(user: CurrentUser, session: SessionDep) -> dict[str, Any]:
    """Trace totals, error rate and latency; span counts by kind; event counts by kind."""
    return await service.metrics(session)


@router.get("/traces/active", response_model=list[TraceRead])
async def traces_active(request: Request, response: Response, user: CurrentUser,
                        page: PageDep) -> list[dict[str, Any]]:
    """Running traces first, then the most recent finished ones (this process's trace
    store); admins see all, others the traces of their own requests."""
    traces, total = service.active_traces(user_id=None if user.is_admin else user.id, page=page)
    set_page_headers(request, response, page, total)
    return traces
