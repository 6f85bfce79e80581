"""Every ORM model, imported so the metadata (and Alembic) sees all tables."""

from crazy_gary.approvals.models import Approval, ToolIntent  # noqa: F401
from crazy_gary.auth.models import ApiKey, RefreshToken, User  # noqa: F401
from crazy_gary.data_versions import data_versions  # noqa: F401
from crazy_gary.endpoints.models import EndpointRecord  # noqa: F401
from crazy_gary.heavy.models import Orchestration, OrchestrationStep  # noqa: F401
from crazy_gary.monitoring.models import (  # noqa: F401
    Alert,
    ErrorLog,
    Executor,
    Incident,
    RequestLog,
)
from crazy_gary.realtime.models import Event, OutgoingEvent  # noqa: F401
from crazy_gary.schedules.models import Schedule, ScheduleRun  # noqa: F401
from crazy_gary.tasks.models import Task, TaskStep  # noqa: F401
from crazy_gary.usage.models import UsageCounter, UsageRecord, UserQuota  # noqa: F401
from crazy_gary.webhooks.models import Webhook, WebhookDelivery  # noqa: F401
