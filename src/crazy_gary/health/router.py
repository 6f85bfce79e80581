"""Health probes: no authentication, never rate limited."""

from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from crazy_gary import __version__
from crazy_gary.auth.dependencies import SettingsDep
from crazy_gary.db import Database, get_database, request_database

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    service: str
    version: str
    environment: str
    railway_env: str | None
    timestamp: float


class Readiness(BaseModel):
    status: str
    missing_env_vars: list[str] | None = None
    database: str | None = None


class Liveness(BaseModel):
    status: str


@router.get("/health", response_model=Health)
async def health(settings: SettingsDep) -> Health:
    """Basic health check."""
    return Health(
        status="healthy",
        service="crazy-gary-api",
        version=__version__,
        environment=settings.environment,
        railway_env=settings.railway_env or settings.environment,
        timestamp=time.time(),
    )


async def database_answers(database: Database | None = None, limit_s: float = 5.0) -> bool:
    """Whether the database runs a trivial query within the timeout."""

    async def probe() -> None:
        async with (database or get_database()).engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    try:
        await asyncio.wait_for(probe(), limit_s)
        return True
    except Exception:
        return False


@router.get(
    "/health/ready",
    response_model=Readiness,
    response_model_exclude_none=True,
    responses={503: {"model": Readiness, "description": "Not ready"}},
)
async def ready(request: Request, settings: SettingsDep) -> Readiness | JSONResponse:
    """Ready when the database answers and model credentials are configured."""
    missing = settings.missing_env_vars()
    db_ok = await database_answers(request_database(request))
    if missing or not db_ok:
        body = Readiness(status="not ready", missing_env_vars=missing,
                         database=None if db_ok else "unreachable")
        return JSONResponse(body.model_dump(exclude_none=True), status_code=503)
    return Readiness(status="ready")


@router.get("/health/live", response_model=Liveness)
async def live() -> Liveness:
    """The process is alive."""
    return Liveness(status="alive")
