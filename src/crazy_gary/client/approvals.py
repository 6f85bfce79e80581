"""Tool approvals: list, read, approve (optionally with edited arguments), deny, and wait
for a task to ask (docs/approvals.md)."""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import AsyncIterator
from typing import Any

from crazy_gary.client.core import Core
from crazy_gary.client.events import Subscription
from crazy_gary.client.models import FINAL_STATUSES, ApprovalRead, Page, TaskDetail
from crazy_gary.client.tasks import task_ended

PATH = "/api/approvals"


class ApprovalsArea:
    """The calls your tasks put to you; a decision resumes the task. Deciding twice (or an
    expired or cancelled approval) raises `ConflictError`; another user's is `NotFoundError`;
    edited arguments that break the tool's schema raise `ValidationError`."""

    def __init__(self, core: Core) -> None:
        self._core = core

    async def list(self, *, status: str | None = None, scope: str = "me", limit: int = 50,
                   offset: int = 0) -> Page[ApprovalRead]:
        """Newest first; `status` pending, approved, denied, expired or cancelled;
        `scope="all"`: everyone's (admins)."""
        return await self._core.page(PATH, ApprovalRead, limit=limit, offset=offset,
                                     params={"status": status, "scope": scope})

    def iter(self, *, status: str | None = None, scope: str = "me",
             page_size: int = 50) -> AsyncIterator[ApprovalRead]:
        return self._core.pages(PATH, ApprovalRead, page_size=page_size,
                                params={"status": status, "scope": scope})

    async def get(self, approval_id: str) -> ApprovalRead:
        return await self._core.call("GET", f"{PATH}/{approval_id}", ApprovalRead)

    async def approve(self, approval_id: str, *, arguments: dict[str, Any] | None = None,
                      comment: str | None = None) -> ApprovalRead:
        """Run the call, with `arguments` instead of the model's when given."""
        return await self._decide(approval_id, {"decision": "approve", "arguments": arguments,
                                                "comment": comment})

    async def deny(self, approval_id: str, *, comment: str | None = None) -> ApprovalRead:
        """Do not run the call; the model is told (with the comment) and carries on."""
        return await self._decide(approval_id, {"decision": "deny", "comment": comment})

    async def _decide(self, approval_id: str, body: dict[str, Any]) -> ApprovalRead:
        return await self._core.call("POST", f"{PATH}/{approval_id}", ApprovalRead,
                                     json={k: v for k, v in body.items() if v is not None})

    async def wait_pending(self, task_id: str, *, count: int = 1,
                           within: float | None = None) -> builtins.list[ApprovalRead]:
        """The task's pending approvals once there are `count` of them (an empty list if
        the task ends first), following its events live; `within` seconds at most."""

        async def watch() -> builtins.list[ApprovalRead]:
            async with Subscription(self._core) as sub:
                task = await self._task(task_id)  # after subscribing: nothing is missed
                if len(task.pending_approvals) >= count or task.status in FINAL_STATUSES:
                    return list(task.pending_approvals)
                async for event in sub:
                    if event.data.get("task_id") != task_id:
                        continue
                    if event.event == "approval_requested" or task_ended(event):
                        task = await self._task(task_id)
                        if (len(task.pending_approvals) >= count
                                or task.status in FINAL_STATUSES):
                            return list(task.pending_approvals)
            return []

        return await asyncio.wait_for(watch(), within)

    async def _task(self, task_id: str) -> TaskDetail:
        return await self._core.call("GET", f"/api/tasks/{task_id}", TaskDetail)
