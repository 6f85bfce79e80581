"""User-management routes under /api/users."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response, status

from crazy_gary import runtime
from crazy_gary.auth.cache import commit_user_change
from crazy_gary.auth.dependencies import AdminUser, CurrentUser, SettingsDep
from crazy_gary.auth.models import User
from crazy_gary.db import SessionDep
from crazy_gary.kit.openapi import error_responses
from crazy_gary.kit.pagination import PageDep, set_page_headers
from crazy_gary.users import service
from crazy_gary.users.listing import encoded_page
from crazy_gary.users.schemas import UserCreate, UserRead, UserUpdate

router = APIRouter(prefix="/api/users", tags=["users"])


def user_read(user: User) -> UserRead:
    return UserRead(
        id=user.id,
        username=user.username,
        email=user.email,
        name=user.name,
        role=user.role,
        created_at=user.created_at,
        last_login=user.last_login,
        has_password=user.password_hash is not None,
    )


@router.get("", response_model=list[UserRead], responses=error_responses(401, 403))
async def list_users(request: Request, page: PageDep, _admin: AdminUser) -> Response:
    """Every user (admin only), paginated. `Cache-Control: no-cache` reads the page afresh
    (it is otherwise served from a cache that any change to users invalidates)."""
    fresh = "no-cache" in request.headers.get("cache-control", "")
    services = runtime.of(request)
    body, total = await encoded_page(services.database, services.user_pages, page, fresh=fresh)
    response = Response(body, media_type="application/json")
    set_page_headers(request, response, page, total)
    return response


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=UserRead,
    responses=error_responses(400, 401, 403, 409),
)
async def create_user(body: UserCreate, _admin: AdminUser, session: SessionDep) -> UserRead:
    """Create a user (admin only); without a password it cannot sign in until one is set."""
    return user_read(await service.create_user(session, data=body))


@router.get("/{user_id}", response_model=UserRead, responses=error_responses(401, 404))
async def get_user(user_id: int, actor: CurrentUser, session: SessionDep) -> UserRead:
    """One user: yourself, or anyone for an admin."""
    return user_read(await service.get_visible_user(session, actor=actor, user_id=user_id))


@router.put(
    "/{user_id}", response_model=UserRead, responses=error_responses(400, 401, 403, 404, 409)
)
async def update_user(user_id: int, body: UserUpdate, actor: CurrentUser, session: SessionDep
                      ) -> UserRead:
    """Update yourself, or anyone for an admin; only an admin changes roles and passwords."""
    user = await service.update_user(session, actor=actor, user_id=user_id, data=body)
    return user_read(user)


@router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404, 409),
)
async def delete_user(user_id: int, _admin: AdminUser, session: SessionDep,
                      settings: SettingsDep) -> Response:
    """Delete a user (admin only) with its data and workspace, after stopping its running
    work; its tokens stop working at once. The last admin stays."""
    await service.delete_user(session, user_id=user_id)
    await commit_user_change(session, user_id)
    await asyncio.to_thread(service.remove_workspace, settings, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
