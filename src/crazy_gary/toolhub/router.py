"""/api/mcp: the tool catalogue, search, execution and status (signed-in users)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, Request, Response

from crazy_gary.auth.dependencies import CurrentUser
from crazy_gary.kit.openapi import error_responses
from crazy_gary.kit.pagination import Page, PageDep, set_page_headers
from crazy_gary.toolhub.hub import get_hub
from crazy_gary.toolhub.schemas import ExecuteRequest, ExecuteResponse, StatusResponse, ToolRead
from crazy_gary.toolhub.types import Tool

router = APIRouter(prefix="/api/mcp", tags=["mcp"], responses=error_responses(401))
T = TypeVar("T")


async def cancel_on_disconnect(request: Request, work: Awaitable[T], poll: float = 0.25) -> T:
    """Await `work`, cancelling it when the HTTP client goes away (a caller that gave up)."""
    task = asyncio.ensure_future(work)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=poll)
            if done:
                return task.result()
            if await request.is_disconnected():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                raise asyncio.CancelledError("client disconnected")
    finally:
        if not task.done():
            task.cancel()


def _page(request: Request, response: Response, page: Page,
          tools: list[Tool]) -> list[dict[str, Any]]:
    set_page_headers(request, response, page, len(tools))
    return [t.to_dict() for t in tools[page.offset: page.offset + page.limit]]


@router.get("/tools", response_model=list[ToolRead])
async def list_tools(user: CurrentUser, request: Request, response: Response,
                     page: PageDep) -> list[dict[str, Any]]:
    """Every tool of every connected client."""
    return _page(request, response, page, get_hub().list_tools())


@router.get("/tools/search", response_model=list[ToolRead], responses=error_responses(400))
async def search_tools(
    user: CurrentUser,
    query: Annotated[str, Query(min_length=1, max_length=500, description="Search query")],
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> list[dict[str, Any]]:
    """Tools ranked by relevance (BM25 over names, descriptions and parameter names)."""
    return [t.to_dict() for t in get_hub().search(query, limit)]


@router.get("/tools/{client_name}", response_model=list[ToolRead],
            responses=error_responses(404, 503))
async def client_tools(client_name: str, user: CurrentUser, request: Request,
                       response: Response, page: PageDep) -> list[dict[str, Any]]:
    """Tools of one client (404 unknown, 503 when it is not connected)."""
    return _page(request, response, page, get_hub().list_tools(client_name))


@router.post("/execute", response_model=ExecuteResponse,
             responses=error_responses(400, 404, 503))
async def execute(body: ExecuteRequest, user: CurrentUser,
                  request: Request) -> dict[str, Any]:
    """Run one tool; its own failure is `success: false` with its message.

    The call is cancelled (the server gets notifications/cancelled) if the client disconnects.
    """
    result = await cancel_on_disconnect(request, get_hub().execute(
        body.client_name, body.tool_name, body.parameters, user_id=user.id,
        timeout=body.timeout))
    return result.to_dict()


@router.get("/status", response_model=StatusResponse)
async def status(user: CurrentUser) -> dict[str, Any]:
    """Overall health, connected clients, tool count and a per-client breakdown."""
    return get_hub().status()
