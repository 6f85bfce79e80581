"""/api/approvals: the caller's approvals, and their decisions (thin: validate, call the
service, present)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from crazy_gary.approvals import service
from crazy_gary.approvals.presenters import approval_read
from crazy_gary.approvals.schemas import ApprovalDecision, ApprovalRead, ApprovalStatus
from crazy_gary.auth.dependencies import CurrentUser
from crazy_gary.db import SessionDep
from crazy_gary.errors import InsufficientPermissions
from crazy_gary.kit.openapi import error_responses
from crazy_gary.kit.pagination import PageDep, set_page_headers

router = APIRouter(prefix="/api/approvals", tags=["approvals"],
                   responses=error_responses(401))


@router.get("", response_model=list[ApprovalRead], responses=error_responses(400, 403))
async def list_approvals(
    request: Request, response: Response, page: PageDep, user: CurrentUser,
    session: SessionDep, status: Annotated[ApprovalStatus | None, Query()] = None,
    scope: Annotated[str, Query(pattern="^(me|all)$",
                                description="`all`: everyone's (admins only)")] = "me",
) -> list[ApprovalRead]:
    """The caller's approvals, newest first, optionally by status."""
    if scope == "all" and not user.is_admin:
        raise InsufficientPermissions("Administrator role required for scope=all")
    rows, total = await service.list_approvals(
        session, user_id=None if scope == "all" else user.id, status=status, page=page)
    set_page_headers(request, response, page, total)
    return [approval_read(r) for r in rows]


@router.get("/{approval_id}", response_model=ApprovalRead, responses=error_responses(404))
async def get_approval(approval_id: str, user: CurrentUser,
                       session: SessionDep) -> ApprovalRead:
    """One approval of the caller's."""
    return approval_read(await service.get_approval(session, user_id=user.id,
                                                    approval_id=approval_id))


@router.post("/{approval_id}", response_model=ApprovalRead,
             responses=error_responses(400, 404, 409))
async def decide(approval_id: str, body: ApprovalDecision, user: CurrentUser,
                 session: SessionDep) -> ApprovalRead:
    """Approve (optionally with edited arguments) or deny a pending approval; the task
    resumes. Decided, expired or cancelled: 409."""
    row = await service.decide(session, user_id=user.id, approval_id=approval_id, body=body)
    return approval_read(row)
