"""Monitoring routes: sign-in required; logs and operator actions are admin-only."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.ext.asyncio import AsyncSession

from crazy_gary import runtime
from crazy_gary.auth.dependencies import AdminUser, CurrentUser, SettingsDep
from crazy_gary.config import Settings
from crazy_gary.db import SessionDep
from crazy_gary.kit.clock import IsoDateTime, iso_now
from crazy_gary.kit.openapi import error_responses
from crazy_gary.kit.pagination import Page, PageDep, page_params, set_page_headers
from crazy_gary.monitoring import alerts, incidents, presenters, service
from crazy_gary.monitoring.cluster import cluster_view
from crazy_gary.monitoring.health import overall_status, run_checks
from crazy_gary.monitoring.schemas import (
    AlertRead,
    BasicHealth,
    ClusterRead,
    Dashboard,
    DetailedHealth,
    ErrorLogRead,
    IncidentCreate,
    IncidentCreated,
    IncidentRead,
    IncidentUpdate,
    ProcessRead,
    RequestLogRead,
    Severity,
    SystemMetrics,
)
from crazy_gary.monitoring.system import host_metrics

router = APIRouter(prefix="/api/monitoring", tags=["monitoring"],
                   responses=error_responses(401, 429))
prometheus_router = APIRouter(tags=["monitoring"])

LogPage = Annotated[Page, Depends(page_params(100))]  # the contract's default for logs


@router.get("/health", response_model=BasicHealth)
async def health(user: CurrentUser, settings: SettingsDep) -> BasicHealth:
    """Overall status from the component checks."""
    components = await run_checks(settings)
    return BasicHealth(status=overall_status(components), timestamp=iso_now())


async def _processes(request: Request) -> list[ProcessRead]:
    current = runtime.of(request)
    rows = await cluster_view(current.database,
                              dead_after=current.settings.executor_dead_after_seconds,
                              engine_running=current.durable.launched)
    return [ProcessRead(**row) for row in rows]


@router.get("/cluster", response_model=ClusterRead, responses=error_responses(403))
async def cluster(request: Request, admin: AdminUser) -> ClusterRead:
    """Every process of the cluster (API and worker), newest first: its state (`alive`,
    `draining`, `gone`), last heartbeat, and how many agent tasks it runs (admin only)."""
    return ClusterRead(processes=await _processes(request))


@router.get("/health/detailed", response_model=DetailedHealth)
async def health_detailed(request: Request, user: CurrentUser,
                          settings: SettingsDep) -> DetailedHealth:
    """Every component with its status, last check and response time (ms); for admins, the
    cluster's processes too."""
    components = await run_checks(settings)
    return DetailedHealth(
        overall=BasicHealth(status=overall_status(components), timestamp=iso_now()),
        components=components,
        cluster=await _processes(request) if user.is_admin else None)


async def _metrics(session: AsyncSession, settings: Settings) -> SystemMetrics:
    return SystemMetrics(**host_metrics(settings.resolved_data_dir),
                         requests=await service.request_totals(session))


@router.get("/metrics", response_model=SystemMetrics)
async def metrics(user: CurrentUser, session: SessionDep,
                  settings: SettingsDep) -> SystemMetrics:
    """Host CPU, memory, disk, network; requests served by all processes (log retention)."""
    return await _metrics(session, settings)


@router.get("/health/dashboard", response_model=Dashboard)
async def dashboard(request: Request, user: CurrentUser, session: SessionDep,
                    settings: SettingsDep) -> Dashboard:
    """Health, key metrics, open alerts and open incidents in one call (and, for admins,
    the cluster's processes)."""
    components = await run_checks(settings)
    m = await _metrics(session, settings)
    active, _ = await alerts.list_alerts(session, status="active", page=Page(50, 0))
    open_incidents = await incidents.open_incidents(session)
    return Dashboard(
        health=BasicHealth(status=overall_status(components), timestamp=iso_now()),
        metrics={"cpu": {"usage": m.cpu["usage"]},
                 "memory": {"usage_percent": m.memory["usage_percent"]},
                 "disk": {"usage_percent": m.disk["usage_percent"]},
                 "requests": m.requests.model_dump(),
                 "components": {name: c["status"] for name, c in components.items()}},
        alerts=[presenters.alert(a).model_dump() for a in active],
        incidents=[presenters.incident(i, full=user.is_admin).model_dump(exclude={"timeline"})
                   for i in open_incidents],
        cluster=await _processes(request) if user.is_admin else None,
    )


@router.get("/logs/requests", response_model=list[RequestLogRead],
            responses=error_responses(403))
async def request_logs(request: Request, response: Response, admin: AdminUser,
                       session: SessionDep, page: LogPage,
                       start_time: IsoDateTime | None = None) -> list[RequestLogRead]:
    """Recent HTTP requests of every process, newest first (admin only); with `start_time`,
    only those from then on."""
    rows, total = await service.request_logs(session, page=page, start_time=start_time)
    set_page_headers(request, response, page, total)
    return [presenters.request_log(r) for r in rows]


@router.get("/logs/errors", response_model=list[ErrorLogRead], responses=error_responses(403))
async def error_logs(request: Request, response: Response, admin: AdminUser,
                     session: SessionDep, page: LogPage,
                     level: Literal["critical", "error", "warning", "info"] | None = None,
                     ) -> list[ErrorLogRead]:
    """Recent errors and warnings with stack traces, newest first (admin only)."""
    rows, total = await service.error_logs(session, page=page, level=level)
    set_page_headers(request, response, page, total)
    return [presenters.error_log(r) for r in rows]


@router.get("/alerts", response_model=list[AlertRead])
async def list_alerts(request: Request, response: Response, user: CurrentUser,
                      session: SessionDep, page: PageDep,
                      status: Literal["active", "resolved", "all"] = "active",
                      ) -> list[AlertRead]:
    """Active alerts by default; `status=resolved|all` for history. Newest first."""
    rows, total = await alerts.list_alerts(session, status=status, page=page)
    set_page_headers(request, response, page, total)
    return [presenters.alert(r) for r in rows]


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertRead,
             responses=error_responses(403, 404))
async def acknowledge_alert(alert_id: str, admin: AdminUser,
                            session: SessionDep) -> AlertRead:
    """Mark an alert as seen by an operator (admin only)."""
    row = await alerts.acknowledge(session, alert_id=alert_id, by=admin.email)
    return presenters.alert(row)


@router.get("/incidents", response_model=list[IncidentRead])
async def list_incidents(
    request: Request, response: Response, user: CurrentUser, session: SessionDep,
    page: PageDep,
    status: Literal["open", "investigating", "resolved"] | None = None,
    severity: Severity | None = None,
) -> list[IncidentRead]:
    rows, total = await incidents.list_incidents(session, status=status, severity=severity,
                                                 page=page)
    set_page_headers(request, response, page, total)
    return [presenters.incident(r, full=user.is_admin) for r in rows]


@router.post("/incidents", status_code=201, response_model=IncidentCreated,
             responses=error_responses(400, 403))
async def create_incident(body: IncidentCreate, admin: AdminUser,
                          session: SessionDep) -> IncidentCreated:
    """Open an incident (admin only: it is announced to every signed-in user)."""
    row = await incidents.create(session, title=body.title, description=body.description,
                                 severity=body.severity, created_by=admin.id, by=admin.email)
    return IncidentCreated(id=row.id, status=row.status)


@router.get("/incidents/{incident_id}", response_model=IncidentRead,
            responses=error_responses(404))
async def get_incident(incident_id: str, user: CurrentUser,
                       session: SessionDep) -> IncidentRead:
    """One incident; only admins see who reported, handled and is assigned to it."""
    return presenters.incident(await incidents.get(session, incident_id=incident_id),
                               full=user.is_admin)


@router.patch("/incidents/{incident_id}", response_model=IncidentRead,
              responses=error_responses(400, 403, 404))
async def update_incident(incident_id: str, body: IncidentUpdate, admin: AdminUser,
                          session: SessionDep) -> IncidentRead:
    """Assign, investigate, resolve (admin only); each change lands in the timeline."""
    row = await incidents.update(session, incident_id=incident_id, by=admin.email,
                                 status=body.status, assignee=body.assignee,
                                 severity=body.severity, note=body.note)
    return presenters.incident(row, full=True)


@prometheus_router.get("/metrics", response_class=PlainTextResponse, include_in_schema=True)
async def prometheus_metrics() -> PlainTextResponse:
    """Prometheus text exposition of this process (unauthenticated, like most exporters)."""
    return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)
