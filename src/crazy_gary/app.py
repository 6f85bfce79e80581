"""create_app(): lifespan, middleware, error handlers, routers."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from crazy_gary import __version__, durable
from crazy_gary.auth.cache import UserCache
from crazy_gary.auth.router import router as auth_router
from crazy_gary.chat.router import router as chat_router
from crazy_gary.config import Settings, get_settings
from crazy_gary.db import Database, close_database, init_database
from crazy_gary.endpoints import service as endpoints_service
from crazy_gary.endpoints import workflows as _endpoint_workflows  # noqa: F401 - DBOS decorators
from crazy_gary.endpoints.health import huggingface_api_check
from crazy_gary.endpoints.router import router as endpoints_router
from crazy_gary.errors import install_error_handlers
from crazy_gary.health.router import router as health_router
from crazy_gary.heavy import workflows as _heavy_workflows  # noqa: F401 - registers workflows
from crazy_gary.heavy.router import router as heavy_router
from crazy_gary.kit.health_checks import register_check
from crazy_gary.kit.middleware import BodySizeLimitMiddleware, RequestIdMiddleware
from crazy_gary.kit.openapi import install_openapi
from crazy_gary.llm import service as llm_service
from crazy_gary.migrations import upgrade
from crazy_gary.monitoring import runtime as monitoring_runtime
from crazy_gary.monitoring import workflows as _monitoring_workflows  # noqa: F401 (DBOS)
from crazy_gary.monitoring.middleware import RequestTelemetryMiddleware
from crazy_gary.monitoring.router import prometheus_router
from crazy_gary.monitoring.router import router as monitoring_router
from crazy_gary.observability.router import router as observability_router
from crazy_gary.ratelimit.middleware import RateLimitMiddleware
from crazy_gary.realtime import fanout
from crazy_gary.realtime.router import router as realtime_router
from crazy_gary.tasks.router import router as tasks_router
from crazy_gary.toolhub.hub import start_hub, stop_hub
from crazy_gary.toolhub.router import router as mcp_router
from crazy_gary.toolhub.workspace_router import router as workspace_router
from crazy_gary.users.listing import PageCache
from crazy_gary.users.router import router as users_router

log = logging.getLogger(__name__)


@asynccontextmanager
async def process_services(
    settings: Settings, database: Database, events_out: fanout.Fanout
) -> AsyncIterator[None]:
    """Start the process-wide services in dependency order; stop them in reverse."""
    await monitoring_runtime.start(settings, database)
    await events_out.start()
    endpoint_manager = endpoints_service.configure(settings)
    llm_service.configure(settings)
    register_check("huggingface_api", huggingface_api_check)
    hub = await start_hub(settings)  # connections come up in the background
    await durable.launch(settings)
    # Everything allocated so far lives as long as the process: keep it out of the cyclic
    # collector's full passes, which otherwise walk it all and stall every request. A
    # larger young generation makes full passes (a pause proportional to every live
    # object, long with thousands of open streams) rare; see bench/results/README.md.
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 10)
    try:
        yield
    finally:
        await durable.shutdown()
        await stop_hub(hub)
        await endpoint_manager.close()
        await events_out.stop()
        await monitoring_runtime.stop()


def create_app(settings: Settings | None = None, *, run_engine: bool = True) -> FastAPI:
    """The whole service.

    `run_engine=False` builds an extra API instance for a process whose primary app already
    runs the process-wide services (engine, fan-out, telemetry, model and tool clients); it
    only serves HTTP on its own database. Tests use it for side-by-side instances.
    """
    settings = settings or get_settings()
    events_out = fanout.configure(settings)  # the process's event fan-out, shared by apps

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(upgrade, settings.sqlalchemy_url)
        database = init_database(settings.sqlalchemy_url, replace=run_engine)
        app.state.database = database
        _ = settings.jwt_secret_key  # generate the key file before the first request
        try:
            if run_engine:
                async with process_services(settings, database, events_out):
                    yield
            else:  # an extra API instance: the primary app runs the services
                yield
        finally:
            await close_database(database)

    app = FastAPI(
        title="Crazy Gary API",
        version=__version__,
        description="Self-hostable backend for autonomous AI agents.",
        lifespan=lifespan,
        # RequestTelemetryMiddleware traces each request with one span; FastAPI's native
        # telemetry would add a span per dependency, endpoint and serialisation.
        telemetry={"tracing": False, "metrics": False, "logs": False,
                   "operation_spans": False},
    )
    app.state.settings = settings
    app.state.user_cache = UserCache(settings.auth_user_cache_seconds)
    app.state.user_pages = PageCache()
    install_error_handlers(app)
    # Outermost last: request id wraps everything so even 413/429 carry it.
    app.add_middleware(RateLimitMiddleware, settings=settings)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestTelemetryMiddleware, settings=settings)
    app.add_middleware(RequestIdMiddleware)

    for router in (
        health_router,
        auth_router,
        users_router,
        endpoints_router,
        mcp_router,
        workspace_router,
        monitoring_router,
        observability_router,
        realtime_router,
        prometheus_router,
        tasks_router,
        chat_router,
        heavy_router,
    ):
        app.include_router(router)
    install_openapi(app)
    return app
