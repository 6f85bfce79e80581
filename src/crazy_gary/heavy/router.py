"""Routes under /api/heavy."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from crazy_gary.auth.dependencies import CurrentUser
from crazy_gary.db import SessionDep
from crazy_gary.heavy import service
from crazy_gary.heavy.schemas import (
    OrchestrateRequest,
    OrchestrationProgress,
    OrchestrationStarted,
    ToolExecuteRequest,
    ToolExecuteResponse,
    ToolInfo,
)
from crazy_gary.heavy.status import OrchestrationStatus
from crazy_gary.kit.openapi import error_responses

router = APIRouter(prefix="/api/heavy", tags=["heavy"])

EXECUTE_TIMEOUT_SECONDS = 600.0


@router.post("/orchestrate", response_model=OrchestrationStarted,
             responses=error_responses(400, 401))
async def orchestrate(body: OrchestrateRequest, user: CurrentUser,
                      session: SessionDep) -> OrchestrationStarted:
    """Start a tool workflow, or the multi-agent heavy mode for a `query`."""
    orch = await service.start_orchestration(session, user_id=user.id, data=body)
    return OrchestrationStarted(orchestration_id=orch.id, status=OrchestrationStatus.STARTED,
                                total_steps=orch.total_steps,
                                estimated_duration=orch.estimated_duration)


@router.get("/progress", response_model=OrchestrationProgress,
            responses=error_responses(401, 404))
async def progress(user: CurrentUser, session: SessionDep,
                   orchestration_id: Annotated[str | None, Query(max_length=64)] = None,
                   ) -> dict[str, Any]:
    """Progress of one of your orchestrations; without an id, your most recent one."""
    return await service.get_progress(session, user_id=user.id,
                                      orchestration_id=orchestration_id)


@router.post("/orchestrations/{orchestration_id}/stop", response_model=OrchestrationProgress,
             responses=error_responses(401, 404, 409))
async def stop(orchestration_id: str, user: CurrentUser,
               session: SessionDep) -> dict[str, Any]:
    """Cancel a running orchestration; steps already finished keep their results."""
    await service.stop_orchestration(session, user_id=user.id, orchestration_id=orchestration_id)
    return await service.get_progress(session, user_id=user.id,
                                      orchestration_id=orchestration_id)


@router.get("/tools", response_model=list[ToolInfo], responses=error_responses(401))
async def tools(_user: CurrentUser) -> list[dict[str, Any]]:
    """The tools a workflow step may use, with their parameters."""
    return service.list_tools()


@router.post("/tools/execute", response_model=ToolExecuteResponse,
             responses=error_responses(400, 401))
async def execute(body: ToolExecuteRequest, user: CurrentUser) -> dict[str, Any]:
    """Run one tool now and return its result."""
    return await service.execute_tool(user_id=user.id, tool_name=body.tool_name,
                                      parameters=body.parameters,
                                      limit_seconds=EXECUTE_TIMEOUT_SECONDS)
