"""Tasks (create, start, stop, retry, get, list, follow live, wait), stats and chat."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from crazy_gary.client import sse
from crazy_gary.client.core import Core
from crazy_gary.client.errors import error_for
from crazy_gary.client.events import Subscription
from crazy_gary.client.models import (
    FINAL_STATUSES,
    ChatDone,
    ChatResponse,
    Event,
    Page,
    StatsRead,
    StatusOnly,
    TaskCreated,
    TaskDetail,
    TaskRead,
)


def task_ended(event: Event) -> bool:
    """Whether this event is the last one of its task (completed/failed, or stopped)."""
    return event.event == "task_completed" or (
        event.event == "task_update" and event.data.get("status") == "stopped")


class TasksArea:
    def __init__(self, core: Core) -> None:
        self._core = core

    async def create(self, title: str, description: str, *, model: str | None = None,
                     priority: str = "medium", auto_start: bool = False,
                     max_steps: int | None = None, token_budget: int | None = None,
                     timeout_seconds: float | None = None,
                     tools: list[str] | None = None,
                     tool_policy: dict[str, Any] | None = None,
                     approval_timeout_seconds: float | None = None) -> TaskCreated:
        """`tool_policy`: `{"default": "ask", "rules": [{"match": GLOB, "action": ...}]}`
        (docs/approvals.md): calls it asks about wait for `approvals.approve`/`deny`."""
        body = {"title": title, "description": description, "model": model,
                "priority": priority, "auto_start": auto_start, "max_steps": max_steps,
                "token_budget": token_budget, "timeout_seconds": timeout_seconds,
                "tools": tools, "tool_policy": tool_policy,
                "approval_timeout_seconds": approval_timeout_seconds}
        return await self._core.call("POST", "/api/tasks", TaskCreated,
                                     json={k: v for k, v in body.items() if v is not None})

    async def start(self, task_id: str) -> StatusOnly:
        return await self._core.call("POST", f"/api/tasks/{task_id}/start", StatusOnly)

    async def stop(self, task_id: str) -> StatusOnly:
        return await self._core.call("POST", f"/api/tasks/{task_id}/stop", StatusOnly)

    async def retry(self, task_id: str, *, max_steps: int | None = None,
                    token_budget: int | None = None, model: str | None = None) -> TaskCreated:
        """Retry a failed or stopped task as a new one that resumes where it ended (the calls
        it completed are not made again); the overrides apply to the calls still to make."""
        body = {"max_steps": max_steps, "token_budget": token_budget, "model": model}
        return await self._core.call("POST", f"/api/tasks/{task_id}/retry", TaskCreated,
                                     json={k: v for k, v in body.items() if v is not None})

    async def get(self, task_id: str) -> TaskDetail:
        return await self._core.call("GET", f"/api/tasks/{task_id}", TaskDetail)

    async def list(self, *, status: str | None = None, limit: int = 50,
                   offset: int = 0) -> Page[TaskRead]:
        return await self._core.page("/api/tasks", TaskRead, limit=limit, offset=offset,
                                     params={"status": status})

    def iter(self, *, status: str | None = None, page_size: int = 50
             ) -> AsyncIterator[TaskRead]:
        """Every task (newest first), fetching pages as the iteration goes."""
        return self._core.pages("/api/tasks", TaskRead, page_size=page_size,
                                params={"status": status})

    async def stats(self, *, scope: str = "me") -> StatsRead:
        return await self._core.call("GET", "/api/stats", StatsRead, params={"scope": scope})

    async def follow(self, task_id: str, *, subscription: Subscription | None = None,
                     after: int | None = None) -> AsyncIterator[Event]:
        """The task's events, live, until it ends (none if it has already ended).

        Give a `subscription` opened before the task was started to see all of its
        events, or `after` (an event id) to replay from there.
        """
        own = subscription is None
        sub = subscription or Subscription(self._core, last_event_id=after)
        if own:
            await sub.open()
        try:
            if own and after is None:
                current = await self.get(task_id)  # after subscribing: nothing is missed
                if current.status in FINAL_STATUSES:
                    return
            async for event in sub:
                if event.data.get("task_id") != task_id:
                    continue
                yield event
                if task_ended(event):
                    return
        finally:
            if own:
                await sub.close()

    async def wait(self, task_id: str, *, within: float | None = None) -> TaskDetail:
        """Follow the task until it ends (or `within` seconds pass) and return it."""

        async def drain() -> None:
            async for _ in self.follow(task_id):
                pass

        await asyncio.wait_for(drain(), within)
        return await self.get(task_id)


class ChatStream:
    """Iterate for the answer's tokens; then `done` holds the whole turn.

    `task_id` and `conversation_id` are known from the first frame on. An `error` frame
    raises the matching `ApiError`."""

    def __init__(self, core: Core, body: dict[str, Any]) -> None:
        self._core = core
        self._body = body
        self.task_id: str | None = None
        self.conversation_id: str | None = body.get("conversation_id")
        self.done: ChatDone | None = None

    def __aiter__(self) -> AsyncIterator[str]:
        return self._tokens()

    async def _tokens(self) -> AsyncIterator[str]:
        timeout = httpx.Timeout(self._core.timeout, read=self._core.wait_timeout)
        async with self._core.stream("POST", "/api/chat/stream", json=self._body,
                                     timeout=timeout) as resp:
            async for frame in sse.frames(resp.aiter_lines()):
                if frame.data is None:
                    continue
                data = json.loads(frame.data)
                if frame.event == "start":
                    self.task_id = data.get("task_id")
                    self.conversation_id = data.get("conversation_id")
                elif frame.event == "token":
                    yield data.get("delta", "")
                elif frame.event == "done":
                    self.done = ChatDone.model_validate(data)
                    return
                elif frame.event == "error":
                    raise error_for(200, {"error": data.get("message", "chat failed"),
                                          "code": data.get("code", "INTERNAL_ERROR"),
                                          "details": {"task_id": self.task_id}},
                                    resp.headers.get("x-request-id"))

    async def text(self) -> str:
        """The whole answer (drains the stream)."""
        return "".join([token async for token in self])


class ChatArea:
    def __init__(self, core: Core) -> None:
        self._core = core

    @staticmethod
    def _body(message: str, conversation_id: str | None, context: str | None,
              model: str | None) -> dict[str, Any]:
        body = {"message": message, "conversation_id": conversation_id, "context": context,
                "model": model}
        return {k: v for k, v in body.items() if v is not None}

    async def send(self, message: str, *, conversation_id: str | None = None,
                   context: str | None = None, model: str | None = None) -> ChatResponse:
        """One agent turn (tools allowed); waits for the answer."""
        return await self._core.call(
            "POST", "/api/chat", ChatResponse, timeout=self._core.wait_timeout,
            json=self._body(message, conversation_id, context, model))

    def stream(self, message: str, *, conversation_id: str | None = None,
               context: str | None = None, model: str | None = None) -> ChatStream:
        """The same turn streamed (no tools): iterate the returned object for tokens."""
        return ChatStream(self._core, self._body(message, conversation_id, context, model))
