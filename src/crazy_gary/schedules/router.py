"""Schedule routes under /api/schedules (thin: validate, call the service, present)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from crazy_gary.auth.dependencies import CurrentUser, SettingsDep
from crazy_gary.db import SessionDep
from crazy_gary.kit.openapi import error_responses
from crazy_gary.kit.pagination import PageDep, set_page_headers
from crazy_gary.schedules import service
from crazy_gary.schedules.presenters import run_read, schedule_read
from crazy_gary.schedules.schemas import (
    RunStarted,
    ScheduleCreate,
    ScheduleRead,
    ScheduleRunRead,
    ScheduleUpdate,
)

router = APIRouter(prefix="/api/schedules", tags=["schedules"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ScheduleRead,
             responses=error_responses(400, 401))
async def create_schedule(body: ScheduleCreate, user: CurrentUser,
                          session: SessionDep) -> ScheduleRead:
    """Create a cron schedule whose every tick creates and starts a task."""
    schedule = await service.create_schedule(session, user_id=user.id, data=body)
    return schedule_read(schedule)


@router.get("", response_model=list[ScheduleRead], responses=error_responses(400, 401))
async def list_schedules(request: Request, response: Response, page: PageDep,
                         user: CurrentUser, session: SessionDep) -> list[ScheduleRead]:
    """The caller's schedules, newest first."""
    schedules, total = await service.list_schedules(session, user_id=user.id, page=page)
    last = await service.last_runs(session, [s.id for s in schedules])
    set_page_headers(request, response, page, total)
    return [schedule_read(s, last.get(s.id)) for s in schedules]


@router.get("/{schedule_id}", response_model=ScheduleRead,
            responses=error_responses(401, 404))
async def get_schedule(schedule_id: str, user: CurrentUser,
                       session: SessionDep) -> ScheduleRead:
    """One schedule with its next tick."""
    schedule = await service.get_schedule(session, user_id=user.id, schedule_id=schedule_id)
    last = await service.last_runs(session, [schedule.id])
    return schedule_read(schedule, last.get(schedule.id))


@router.patch("/{schedule_id}", response_model=ScheduleRead,
              responses=error_responses(400, 401, 404))
async def update_schedule(schedule_id: str, body: ScheduleUpdate, user: CurrentUser,
                          session: SessionDep) -> ScheduleRead:
    """Change a schedule (only the fields given)."""
    schedule = await service.update_schedule(session, user_id=user.id,
                                             schedule_id=schedule_id, data=body)
    last = await service.last_runs(session, [schedule.id])
    return schedule_read(schedule, last.get(schedule.id))


@router.delete("/{schedule_id}", status_code=status.HTTP_204_NO_CONTENT,
               response_class=Response, responses=error_responses(401, 404))
async def delete_schedule(schedule_id: str, user: CurrentUser, session: SessionDep) -> None:
    """Delete a schedule: it fires no more (the tasks it created stay)."""
    await service.delete_schedule(session, user_id=user.id, schedule_id=schedule_id)


@router.post("/{schedule_id}/run", status_code=status.HTTP_201_CREATED,
             response_model=RunStarted, responses=error_responses(401, 404, 429))
async def run_schedule(schedule_id: str, user: CurrentUser, session: SessionDep,
                       settings: SettingsDep) -> RunStarted:
    """Create and start the schedule's task now (a manual run, whatever the overlap)."""
    task = await service.run_now(session, user_id=user.id, schedule_id=schedule_id,
                                 default_model=settings.task_default_model)
    return RunStarted(task_id=task.id)


@router.get("/{schedule_id}/runs", response_model=list[ScheduleRunRead],
            responses=error_responses(400, 401, 404))
async def list_runs(schedule_id: str, request: Request, response: Response, page: PageDep,
                    user: CurrentUser, session: SessionDep) -> list[ScheduleRunRead]:
    """Each tick of the schedule (fired, skipped or queued, and its task), newest first."""
    runs, total = await service.list_runs(session, user_id=user.id, schedule_id=schedule_id,
                                          page=page)
    set_page_headers(request, response, page, total)
    return [run_read(r) for r in runs]
