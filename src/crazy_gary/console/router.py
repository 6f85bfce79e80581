"""Serve the console: its assets under /ui/ and index.html for each client-side route.

The client-side routes are listed explicitly (no catch-all), so unknown paths, `/api/*`,
`/docs`, `/health*`, `/metrics` and `/socket.io/` behave exactly as without the console.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"

# Everything the page may load comes from this origin; no inline script or style.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
       "img-src 'self' data:; font-src 'self'; frame-ancestors 'none'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'")

HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

PAGES = ("/", "/login", "/register", "/account", "/tasks", "/tasks/new", "/tasks/{task_id}",
         "/approvals", "/chat", "/models", "/tools", "/workspace", "/heavy", "/monitoring",
         "/admin")

router = APIRouter(include_in_schema=False)


async def index() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8",
                        headers=HEADERS)


for _page in PAGES:
    router.add_api_route(_page, index, methods=["GET"], name=f"console:{_page}")


class _Assets(StaticFiles):
    """Static files with the console's headers (revalidated on every load: no stale app)."""

    async def get_response(self, path, scope):
        response = await super().get_response(path, scope)
        for key, value in HEADERS.items():
            response.headers.setdefault(key, value)
        return response


def install_console(app: FastAPI) -> None:
    """Register after the API routers: API routes keep priority."""
    app.include_router(router)
    app.mount("/ui", _Assets(directory=STATIC), name="console-assets")
