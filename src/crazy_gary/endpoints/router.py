"""/api/endpoints: status of the model endpoints, wake and sleep (sleep is admin-only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from crazy_gary.auth.dependencies import AdminUser, CurrentUser
from crazy_gary.config import MODEL_KEYS
from crazy_gary.endpoints.schemas import AllEndpointsStatus, EndpointStatus, OperationStarted
from crazy_gary.endpoints.service import endpoint_key, get_manager
from crazy_gary.kit.openapi import error_responses

router = APIRouter(prefix="/api/endpoints", tags=["endpoints"])


@router.get("/status", response_model=AllEndpointsStatus, responses=error_responses(401))
async def all_status(_user: CurrentUser) -> AllEndpointsStatus:
    """Status of both model endpoints."""
    statuses = await get_manager().status_all()
    return AllEndpointsStatus(endpoints={key: EndpointStatus.model_validate(view)
                                         for key, view in statuses.items()})


@router.get("/status/{model_type}", response_model=EndpointStatus,
            responses=error_responses(401, 404))
async def one_status(model_type: str, _user: CurrentUser) -> dict[str, Any]:
    """Status of one endpoint ("120b" or "20b")."""
    return await get_manager().status_one(endpoint_key(model_type))


@router.post("/wake", response_model=OperationStarted, responses=error_responses(401))
async def wake_all(_user: CurrentUser) -> OperationStarted:
    """Start waking every sleeping endpoint that can be woken; returns at once."""
    manager = get_manager()
    for key in MODEL_KEYS:
        provider = manager.provider(key)
        if provider is not None and provider.manageable:
            await manager.wake(key)
    return OperationStarted(message="All endpoints wake operation initiated")


@router.post("/wake/{model_type}", response_model=OperationStarted,
             responses=error_responses(401, 404, 409))
async def wake_one(model_type: str, _user: CurrentUser) -> OperationStarted:
    """Start waking one endpoint; returns at once (409 when it cannot be managed)."""
    key = endpoint_key(model_type)
    await get_manager().wake(key)
    return OperationStarted(message=f"{key.upper()} endpoint wake operation initiated")


@router.post("/sleep", response_model=OperationStarted, responses=error_responses(401, 403))
async def sleep_all(_admin: AdminUser) -> OperationStarted:
    """Start putting every awake endpoint to sleep (admin only: it interrupts others' work)."""
    manager = get_manager()
    for key in MODEL_KEYS:
        provider = manager.provider(key)
        if provider is not None and provider.manageable:
            await manager.sleep(key)
    return OperationStarted(message="All endpoints sleep operation initiated")


@router.post("/sleep/{model_type}", response_model=OperationStarted,
             responses=error_responses(401, 403, 404, 409))
async def sleep_one(model_type: str, _admin: AdminUser) -> OperationStarted:
    """Start putting one endpoint to sleep (admin only)."""
    key = endpoint_key(model_type)
    await get_manager().sleep(key)
    return OperationStarted(message=f"{key.upper()} endpoint sleep operation initiated")
