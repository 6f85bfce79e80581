"""A Python client of the Crazy Gary API: `Client` (sync) and `AsyncClient` (asyncio).

    from crazy_gary.client import Client
    with Client("http://127.0.0.1:8000") as gary:
        gary.auth.login("me@example.com", "secret-1")
        task = gary.tasks.create("Summarise", "Summarise README.md", auto_start=True)
        print(gary.tasks.wait(task.task_id).result["answer"])

It imports no server machinery (only the API's pydantic schemas). See docs/client.md.
"""

from crazy_gary.client.aio import AsyncClient
from crazy_gary.client.core import RetryPolicy
from crazy_gary.client.errors import (
    ApiError,
    AuthenticationError,
    ConflictError,
    CrazyGaryError,
    NotFoundError,
    PayloadTooLarge,
    PermissionDenied,
    QuotaExceeded,
    RateLimited,
    ServerError,
    ServiceUnavailable,
    TaskFailed,
    Timeout,
    TransportError,
    ValidationError,
)
from crazy_gary.client.events import Subscription
from crazy_gary.client.models import Event, Page
from crazy_gary.client.sync import Client

__all__ = [
    "ApiError", "AsyncClient", "AuthenticationError", "Client", "ConflictError",
    "CrazyGaryError", "Event", "NotFoundError", "Page", "PayloadTooLarge", "PermissionDenied",
    "QuotaExceeded", "RateLimited", "RetryPolicy", "ServerError", "ServiceUnavailable",
    "Subscription", "TaskFailed", "Timeout", "TransportError", "ValidationError",
]
