"""User-management routes under /api/users."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from crazy_gary.auth.dependencies import AdminUser, CurrentUser
from crazy_gary.auth.models import User
from crazy_gary.db import SessionDep
from crazy_gary.kit.clock import iso
from crazy_gary.kit.openapi import error_responses
from crazy_gary.kit.pagination import PageDep, set_page_headers
from crazy_gary.users import service
from crazy_gary.users.schemas import UserCreate, UserRead, UserUpdate

router = APIRouter(prefix="/api/users", tags=["users"])


def user_read(user: User) -> UserRead:
    return _read(user, has_password=user.password_hash is not None)


def row_read(row) -> UserRead:
    """A listed row (see users.service.LISTED) as the response schema."""
    return _read(row, has_password=bool(row.has_password))


def _read(source, *, has_password: bool) -> UserRead:
    """The response schema from an ORM user or a listed row (same attribute names)."""
    return UserRead(
        id=source.id,
        username=source.username,
        email=source.email,
        name=source.name,
        role=source.role,
        created_at=iso(source.created_at),
        last_login=iso(source.last_login),
        has_password=has_password,
    )


@router.get("", response_model=list[UserRead], responses=error_responses(401, 403))
async def list_users(
    request: Request, response: Response, page: PageDep, _admin: AdminUser, session: SessionDep
):
    """Every user (admin only), paginated."""
    users, total = await service.list_users(session, page=page)
    set_page_headers(request, response, page, total)
    return [row_read(row) for row in users]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=UserRead,
    responses=error_responses(400, 401, 403, 409),
)
async def create_user(body: UserCreate, _admin: AdminUser, session: SessionDep):
    """Create a user (admin only); without a password it cannot sign in until one is set."""
    return user_read(await service.create_user(session, data=body))


@router.get("/{user_id}", response_model=UserRead, responses=error_responses(401, 404))
async def get_user(user_id: int, actor: CurrentUser, session: SessionDep):
    """One user: yourself, or anyone for an admin."""
    return user_read(await service.get_visible_user(session, actor=actor, user_id=user_id))


@router.put(
    "/{user_id}", response_model=UserRead, responses=error_responses(400, 401, 403, 404, 409)
)
async def update_user(user_id: int, body: UserUpdate, actor: CurrentUser, session: SessionDep):
    """Update yourself, or anyone for an admin; only an admin changes roles and passwords."""
    user = await service.update_user(session, actor=actor, user_id=user_id, data=body)
    return user_read(user)


@router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404, 409),
)
async def delete_user(user_id: int, _admin: AdminUser, session: SessionDep):
    """Delete a user (admin only); the last admin stays."""
    await service.delete_user(session, user_id=user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
