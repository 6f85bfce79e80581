"""List pagination: limit/offset in, the facts in headers out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar
from urllib.parse import urlencode

from fastapi import Depends, Query, Request, Response
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
MAX_OFFSET = 2**31 - 1  # keeps OFFSET within what every database accepts


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int


def page_params(default_limit: int = DEFAULT_LIMIT) -> Callable[[int, int], Awaitable[Page]]:
    """`limit` (1..100, default `default_limit`) and `offset` query parameters as a Page."""

    async def page_params(
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")]
        = default_limit,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip")] = 0,
    ) -> Page:
        return Page(limit=limit, offset=offset)

    return page_params


PageDep = Annotated[Page, Depends(page_params())]


async def fetch_page(session: AsyncSession, query: Select[T], page: Page
                     ) -> tuple[list[T], int]:
    """One page of an ordered ORM query and the total it pages through."""
    total = await session.scalar(
        select(func.count()).select_from(query.order_by(None).subquery()))
    rows = await session.scalars(query.limit(page.limit).offset(page.offset))
    return list(rows), int(total or 0)


def set_page_headers(request: Request, response: Response, page: Page, total: int) -> None:
    """X-Total-Count, X-Limit, X-Offset, X-Has-More and an RFC 8288 Link header."""
    has_more = page.offset + page.limit < total
    headers = [
        (b"x-total-count", str(total).encode()),
        (b"x-limit", str(page.limit).encode()),
        (b"x-offset", str(page.offset).encode()),
        (b"x-has-more", b"true" if has_more else b"false"),
    ]
    links = []
    if has_more or page.offset > 0:
        url, query = request.url, dict(request.query_params)
        base = f"{url.scheme}://{url.netloc}{url.path}"

        def link(offset: int, rel: str) -> str:
            query.update(limit=str(page.limit), offset=str(offset))
            return f'<{base}?{urlencode(query)}>; rel="{rel}"'

        if has_more:
            links.append(link(page.offset + page.limit, "next"))
        if page.offset > 0:
            links.append(link(max(0, page.offset - page.limit), "prev"))
        headers.append((b"link", ", ".join(links).encode("latin-1")))
    # Appended as raw pairs: these names are new to the response, and MutableHeaders would
    # search and rebuild the list for each.
    response.raw_headers.extend(headers)
