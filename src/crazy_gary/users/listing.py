"""The user list as encoded pages, kept while the users table is unchanged.

Each page is stored with the users table's version read before the page was
(`data_versions`): it is served again only while the version still reads the same, so a
change by any process (another server, `crazy-gary create-admin`, plain SQL) is seen by
the very next request. A hit costs one primary-key read instead of the page query and
its encoding (measured in bench/results/). A client can ask for a fresh read with
`Cache-Control: no-cache`.
"""

from __future__ import annotations

from pydantic import TypeAdapter

from crazy_gary.data_versions import current_version
from crazy_gary.db import Database
from crazy_gary.kit.pagination import Page
from crazy_gary.users import service
from crazy_gary.users.schemas import UserRead

# A page is encoded from the rows in one pass by pydantic-core (per-row models in Python
# cost more than the query); the rows come from typed columns, so there is nothing to
# validate, and the extra `total` column is left out.
USER_PAGE = TypeAdapter(list[UserRead])


class PageCache:
    """Encoded pages by (limit, offset), each with the users version it was read at."""

    def __init__(self, max_pages: int = 64) -> None:
        self.max_pages = max_pages
        self._pages: dict[tuple[int, int], tuple[int, bytes, int]] = {}

    def get(self, version: int, page: Page) -> tuple[bytes, int] | None:
        entry = self._pages.get((page.limit, page.offset))
        if entry is None or entry[0] != version:
            return None
        return entry[1], entry[2]

    def put(self, version: int, page: Page, body: bytes, total: int) -> None:
        if len(self._pages) >= self.max_pages:
            self._pages.clear()
        self._pages[(page.limit, page.offset)] = (version, body, total)


async def encoded_page(
    database: Database, cache: PageCache, page: Page, *, fresh: bool = False
) -> tuple[bytes, int]:
    """The page as JSON and the total number of users; `fresh` skips the cache."""
    version = await current_version(database, "users")  # before the page, never after
    if version is not None and not fresh:
        hit = cache.get(version, page)
        if hit is not None:
            return hit
    rows, total = await service.list_users(database, page=page)
    body = USER_PAGE.dump_json(rows)
    if version is not None:
        cache.put(version, page, body, total)
    return body, total
