"""`AsyncClient`: every area of the API on one connection pool."""

from __future__ import annotations

from typing import Any

from crazy_gary.client.accounts import AuthArea, UsersArea
from crazy_gary.client.approvals import ApprovalsArea
from crazy_gary.client.core import Core, RetryPolicy, TokenCallback
from crazy_gary.client.events import EventsArea
from crazy_gary.client.schedules import SchedulesArea
from crazy_gary.client.system import EndpointsArea, HealthArea, HeavyArea, MonitoringArea
from crazy_gary.client.tasks import ChatArea, TasksArea
from crazy_gary.client.tools import FilesArea, ToolsArea
from crazy_gary.client.usage import UsageArea
from crazy_gary.client.webhooks import WebhooksArea

AREAS = ("auth", "users", "tasks", "chat", "events", "endpoints", "tools", "files", "heavy",
         "monitoring", "health", "schedules", "webhooks", "usage", "approvals")


class AsyncClient:
    """The Crazy Gary API over httpx, for asyncio code.

    `token`/`refresh_token` resume a session (or call `auth.login`); an expired access
    token is refreshed once and the call retried. `on_tokens(token, refresh_token)` is
    called whenever they change (refresh tokens rotate: store the new one).
    """

    def __init__(self, base_url: str = "http://127.0.0.1:8000", *, token: str | None = None,
                 refresh_token: str | None = None, timeout: float = 30.0,
                 wait_timeout: float = 600.0, retry: RetryPolicy | None = None,
                 on_tokens: TokenCallback | None = None, **http: Any) -> None:
        self.core = Core(base_url, token=token, refresh_token=refresh_token, timeout=timeout,
                         wait_timeout=wait_timeout, retry=retry, on_tokens=on_tokens, **http)
        self.auth = AuthArea(self.core)
        self.users = UsersArea(self.core)
        self.tasks = TasksArea(self.core)
        self.chat = ChatArea(self.core)
        self.events = EventsArea(self.core)
        self.endpoints = EndpointsArea(self.core)
        self.tools = ToolsArea(self.core)
        self.files = FilesArea(self.core)
        self.heavy = HeavyArea(self.core)
        self.monitoring = MonitoringArea(self.core)
        self.health = HealthArea(self.core)
        self.schedules = SchedulesArea(self.core)
        self.webhooks = WebhooksArea(self.core)
        self.usage = UsageArea(self.core)
        self.approvals = ApprovalsArea(self.core)

    @property
    def token(self) -> str | None:
        return self.core.token

    @property
    def refresh_token(self) -> str | None:
        return self.core.refresh_token

    async def aclose(self) -> None:
        await self.core.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
