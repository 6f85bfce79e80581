"""create_app(): lifespan, middleware, error handlers, routers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from crazy_gary import __version__
from crazy_gary.api_schema import install_openapi
from crazy_gary.approvals.router import router as approvals_router
from crazy_gary.auth.api_key_router import router as api_keys_router
from crazy_gary.auth.router import router as auth_router
from crazy_gary.chat.router import router as chat_router
from crazy_gary.config import Settings, get_settings
from crazy_gary.console.router import install_console
from crazy_gary.endpoints.router import router as endpoints_router
from crazy_gary.errors import install_error_handlers
from crazy_gary.health.router import router as health_router
from crazy_gary.heavy.router import router as heavy_router
from crazy_gary.kit.middleware import BodySizeLimitMiddleware, RequestIdMiddleware
from crazy_gary.kit.nul_guard import NulGuardMiddleware
from crazy_gary.kit.redaction import install_log_redaction
from crazy_gary.kit.security_headers import SecurityHeadersMiddleware
from crazy_gary.monitoring.middleware import RequestTelemetryMiddleware
from crazy_gary.monitoring.observability_router import router as observability_router
from crazy_gary.monitoring.router import prometheus_router
from crazy_gary.monitoring.router import router as monitoring_router
from crazy_gary.ratelimit.middleware import RateLimitMiddleware
from crazy_gary.realtime.router import router as realtime_router
from crazy_gary.schedules.router import router as schedules_router
from crazy_gary.startup import start_runtime
from crazy_gary.tasks.router import router as tasks_router
from crazy_gary.toolhub.router import router as mcp_router
from crazy_gary.toolhub.workspace_router import router as workspace_router
from crazy_gary.usage.router import router as usage_router
from crazy_gary.users.router import router as users_router
from crazy_gary.webhooks.router import router as webhooks_router

log = logging.getLogger(__name__)

# What a browser page on a CORS_ORIGINS origin may read of a response.
CORS_EXPOSED_HEADERS = ["X-Request-ID", "X-Total-Count", "X-Limit", "X-Offset", "X-Has-More",
                        "Link", "X-RateLimit-Limit", "X-RateLimit-Remaining",
                        "X-RateLimit-Reset", "X-RateLimit-Window", "Retry-After"]


def create_app(settings: Settings | None = None, *,
               socket_servers: Sequence[Any] = ()) -> FastAPI:
    """The whole service. Its lifespan builds and starts the process's runtime
    (`startup.start_runtime`), which routes read from `app.state.runtime`; one app (one
    runtime) per process. `socket_servers` are the socket.io servers the fan-out delivers to.
    """
    settings = settings or get_settings()
    install_log_redaction()  # no access token in any log line, uvicorn's access log included

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with start_runtime(settings, socket_servers=socket_servers) as runtime:
            app.state.runtime = runtime
            try:
                yield
            finally:
                del app.state.runtime

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
    install_error_handlers(app)
    # Outermost last: request id wraps everything so even 413/429 carry it.
    app.add_middleware(NulGuardMiddleware, max_bytes=settings.max_body_bytes)  # reads JSON bodies
    app.add_middleware(RateLimitMiddleware, settings=settings)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestTelemetryMiddleware, settings=settings)
    if settings.cors_origin_list:  # preflights answered before rate limits, with a request id
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origin_list,
                           allow_methods=["*"], allow_headers=["*"],
                           expose_headers=CORS_EXPOSED_HEADERS)
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)

    for router in (
        health_router,
        auth_router,
        api_keys_router,
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
        approvals_router,
        schedules_router,
        webhooks_router,
        usage_router,
    ):
        app.include_router(router)
    install_console(app)  # after the API: `/` and client-side routes only
    install_openapi(app)
    return app
