"""Observability read-outs: traces and trace/span/event metrics (sign-in required)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from crazy_gary.auth.dependencies import CurrentUser
from crazy_gary.db import SessionDep
from crazy_gary.kit.openapi import error_responses
from crazy_gary.observability import service
from crazy_gary.observability.schemas import ObservabilityMetrics, TraceRead

router = APIRouter(prefix="/api/observability", tags=["observability"],
                   responses=error_responses(401, 429))


@router.get("/metrics", response_model=ObservabilityMetrics)
async def observability_metrics(user: CurrentUser, session: SessionDep):
    """Trace totals, error rate and latency; span counts by kind; event counts by kind."""
    return await service.metrics(session)


@router.get("/traces/active", response_model=list[TraceRead])
async def traces_active(
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
):
    """Running and recent traces; admins see all, others the traces of their own requests."""
    return service.active_traces(user_id=None if user.is_admin else user.id, limit=limit)
