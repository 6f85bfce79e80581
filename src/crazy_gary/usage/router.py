"""Usage and quota routes: GET /api/usage, PUT/GET /api/users/{id}/quota (admins),
GET /api/auth/me/quota."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from crazy_gary.auth.dependencies import AdminUser, CurrentUser
from crazy_gary.auth.models import USER_ID_MAX
from crazy_gary.db import SessionDep
from crazy_gary.kit.clock import IsoDateTime
from crazy_gary.kit.openapi import error_responses
from crazy_gary.usage import service
from crazy_gary.usage.report import GroupBy
from crazy_gary.usage.schemas import QuotaRead, QuotaUpdate, UsageReport

router = APIRouter(prefix="/api", tags=["usage"])


@router.get("/usage", response_model=UsageReport, responses=error_responses(400, 401, 403, 404))
async def get_usage(
    user: CurrentUser,
    session: SessionDep,
    from_: Annotated[IsoDateTime | None, Query(
        alias="from", description="Start (inclusive); default: the start of this UTC month")
    ] = None,
    to: Annotated[IsoDateTime | None, Query(description="End (exclusive); default: now")
                  ] = None,
    group_by: Annotated[GroupBy | None, Query()] = None,
    user_id: Annotated[int | None, Query(ge=1, le=USER_ID_MAX,
                                         description="Another user (admins only)")] = None,
    scope: Annotated[Literal["me", "all"], Query(description="`all`: every user (admins)")
                     ] = "me",
) -> UsageReport:
    """Tokens, cost, tasks, model calls and tool calls over a period: your own, or for an
    admin any user's (`user_id`) or everyone's (`scope=all`)."""
    return await service.usage_report(session, actor=user, start=from_, end=to,
                                      group_by=group_by, user_id=user_id, scope=scope)


@router.put("/users/{user_id}/quota", response_model=QuotaRead,
            responses=error_responses(400, 401, 403, 404))
async def set_quota(user_id: int, body: QuotaUpdate, _admin: AdminUser,
                    session: SessionDep) -> QuotaRead:
    """Set a user's monthly limits (admins); `null` is unlimited, a limit left out keeps
    its value."""
    return await service.set_quota(session, user_id=user_id,
                                   changes=body.model_dump(include=body.model_fields_set))


@router.get("/users/{user_id}/quota", response_model=QuotaRead,
            responses=error_responses(401, 403, 404))
async def get_quota(user_id: int, _admin: AdminUser, session: SessionDep) -> QuotaRead:
    """A user's monthly limits and what this month has used (admins)."""
    return await service.quota_of(session, user_id=user_id)


@router.get("/auth/me/quota", response_model=QuotaRead, responses=error_responses(401))
async def my_quota(user: CurrentUser, session: SessionDep) -> QuotaRead:
    """Your monthly limits, what this month has used, and when it resets."""
    return await service.quota_of(session, user_id=user.id, known=True)

