"""ORM rows to API schemas."""

from __future__ import annotations

from crazy_gary.kit.clock import iso
from crazy_gary.monitoring.models import Alert, ErrorLog, Incident, RequestLog
from crazy_gary.monitoring.schemas import AlertRead, ErrorLogRead, IncidentRead, RequestLogRead


def request_log(row: RequestLog) -> RequestLogRead:
    return RequestLogRead(timestamp=iso(row.timestamp), method=row.method, path=row.path,
                          status_code=row.status_code, response_time=row.response_time,
                          user_agent=row.user_agent, ip_address=row.ip_address,
                          request_id=row.request_id, user_id=row.user_id)


def error_log(row: ErrorLog) -> ErrorLogRead:
    return ErrorLogRead(timestamp=iso(row.timestamp), level=row.level, message=row.message,
                        stack_trace=row.stack_trace, component=row.component,
                        request_id=row.request_id)


def alert(row: Alert) -> AlertRead:
    return AlertRead(id=row.id, type=row.type, severity=row.severity, message=row.message,
                     timestamp=iso(row.created_at), component=row.component,
                     acknowledged=row.acknowledged, status=row.status,
                     resolved_at=iso(row.resolved_at), acknowledged_by=row.acknowledged_by)


def incident(row: Incident, *, full: bool) -> IncidentRead:
    """An incident; without `full` (for anyone but an admin, and in events) it names no one:
    the assignee and who made each timeline entry are null."""
    timeline = list(row.timeline or [])
    if not full:
        timeline = [{**entry, "by": None,
                     **({"assignee": None} if "assignee" in entry else {})}
                    for entry in timeline]
    return IncidentRead(id=row.id, title=row.title, status=row.status, severity=row.severity,
                        created_at=iso(row.created_at), updated_at=iso(row.updated_at),
                        description=row.description,
                        assignee=row.assignee if full else None,
                        resolved_at=iso(row.resolved_at), timeline=timeline)
