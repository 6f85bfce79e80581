"""Task routes under /api/tasks and /api/stats (thin: validate, call the service, present)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response, status

from crazy_gary.approvals import service as approvals
from crazy_gary.approvals.presenters import approval_read
from crazy_gary.auth.dependencies import CurrentUser, SettingsDep
from crazy_gary.db import SessionDep
from crazy_gary.errors import InsufficientPermissions
from crazy_gary.kit.openapi import error_responses
from crazy_gary.kit.pagination import PageDep, set_page_headers
from crazy_gary.tasks import retry, service
from crazy_gary.tasks.presenters import task_detail, task_read
from crazy_gary.tasks.schemas import (
    StatsRead,
    Status,
    StatusOnly,
    TaskCreate,
    TaskCreated,
    TaskDetail,
    TaskRead,
    TaskRetry,
)
from crazy_gary.tasks.status import TaskStatus

router = APIRouter(prefix="/api", tags=["tasks"])


@router.post("/tasks", status_code=status.HTTP_201_CREATED, response_model=TaskCreated,
             responses=error_responses(400, 401, 429))
async def create_task(body: TaskCreate, user: CurrentUser,
                      settings: SettingsDep) -> TaskCreated:
    """Create a task (`auto_start` queues it at once)."""
    task = await service.submit_task(user_id=user.id, data=body,
                                     default_model=settings.task_default_model)
    return TaskCreated(task_id=task.id, status=TaskStatus.CREATED)


@router.get("/tasks", response_model=list[TaskRead], responses=error_responses(400, 401))
async def list_tasks(request: Request, response: Response, page: PageDep, user: CurrentUser,
                     session: SessionDep, status: Annotated[Status | None, Query()] = None
                     ) -> list[TaskRead]:
    """The caller's tasks, newest first, optionally filtered by status."""
    tasks, total = await service.list_tasks(session, user_id=user.id, status=status, page=page)
    set_page_headers(request, response, page, total)
    return [task_read(t) for t in tasks]


@router.get("/tasks/{task_id}", response_model=TaskDetail, responses=error_responses(401, 404))
async def get_task(task_id: str, user: CurrentUser, session: SessionDep) -> TaskDetail:
    """One task with its result (answer, steps, artifacts, usage) and error."""
    task = await service.get_task(session, user_id=user.id, task_id=task_id)
    steps = await service.list_steps(session, task_id=task_id)
    pending = await approvals.pending_for_task(session, task_id=task_id)
    return task_detail(task, steps, pending=[approval_read(a) for a in pending])


@router.post("/tasks/{task_id}/start", response_model=StatusOnly,
             responses=error_responses(401, 404, 409, 429))
async def start_task(task_id: str, user: CurrentUser) -> StatusOnly:
    """Queue a created task (critical first; a per-user cap on running tasks)."""
    await service.start_created_task(user_id=user.id, task_id=task_id)
    return StatusOnly(status="started")


@router.post("/tasks/{task_id}/stop", response_model=StatusOnly,
             responses=error_responses(401, 404, 409))
async def stop_task(task_id: str, user: CurrentUser, session: SessionDep) -> StatusOnly:
    """Stop a task: the in-flight call is cancelled and what was done so far is kept."""
    await service.stop_task(session, user_id=user.id, task_id=task_id)
    return StatusOnly(status=TaskStatus.STOPPED)


@router.post("/tasks/{task_id}/retry", status_code=status.HTTP_201_CREATED,
             response_model=TaskCreated, responses=error_responses(400, 401, 404, 409))
async def retry_task(task_id: str, user: CurrentUser, session: SessionDep,
                     settings: SettingsDep,
                     body: Annotated[TaskRetry, Body(default_factory=TaskRetry)]
                     ) -> TaskCreated:
    """Retry a failed or stopped task as a new task that resumes where it ended: the model
    and tool calls it completed are carried over, not made again."""
    task = await retry.retry_task(session, user_id=user.id, task_id=task_id,
                                  data=body, settings=settings)
    return TaskCreated(task_id=task.id, status=TaskStatus.RUNNING)


@router.get("/stats", response_model=StatsRead, responses=error_responses(401, 403))
async def get_stats(user: CurrentUser, session: SessionDep,
                    scope: Annotated[str, Query(pattern="^(me|all)$",
                                                description="`all` (admins only)")] = "me"
                    ) -> StatsRead:
    """Task statistics for the caller (an admin may ask for everyone with scope=all)."""
    if scope == "all" and not user.is_admin:
        raise InsufficientPermissions("Administrator role required for scope=all")
    return await service.stats(session, user_id=None if scope == "all" else user.id)
