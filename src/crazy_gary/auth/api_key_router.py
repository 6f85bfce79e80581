"""API-key routes under /api/auth/api-keys (a person signed in only: keys cannot manage
keys; see `auth.scopes`)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from crazy_gary.auth import api_keys
from crazy_gary.auth.api_key_schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from crazy_gary.auth.dependencies import CurrentUser
from crazy_gary.auth.models import ApiKey
from crazy_gary.db import SessionDep
from crazy_gary.kit.clock import iso
from crazy_gary.kit.openapi import error_responses

router = APIRouter(prefix="/api/auth/api-keys", tags=["auth"])


def key_read(key: ApiKey) -> ApiKeyRead:
    return ApiKeyRead(id=key.id, name=key.name, prefix=key.prefix, scopes=key.scopes.split(),
                      created_at=iso(key.created_at), expires_at=iso(key.expires_at),
                      last_used_at=iso(key.last_used_at))


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApiKeyCreated,
             responses=error_responses(400, 401, 403))
async def create_api_key(body: ApiKeyCreate, user: CurrentUser, session: SessionDep
                         ) -> ApiKeyCreated:
    """Create a key with the given scopes; its secret is in this response only."""
    key, secret = await api_keys.create_key(session, owner=user, name=body.name,
                                            scopes=body.scopes,
                                            expires_in_days=body.expires_in_days)
    return ApiKeyCreated(**key_read(key).model_dump(), key=secret)


@router.get("", response_model=list[ApiKeyRead], responses=error_responses(401, 403))
async def list_api_keys(user: CurrentUser, session: SessionDep) -> list[ApiKeyRead]:
    """Your keys (never their secrets), newest first."""
    return [key_read(key) for key in await api_keys.list_keys(session, user_id=user.id)]


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=error_responses(401, 403, 404))
async def delete_api_key(key_id: str, user: CurrentUser, session: SessionDep) -> Response:
    """Delete one of your keys: it stops working at once, on every process."""
    await api_keys.delete_key(session, user_id=user.id, key_id=key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
