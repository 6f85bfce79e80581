"""Approval rows to API shapes and event payloads."""

from __future__ import annotations

from typing import Any

from crazy_gary.approvals.models import Approval
from crazy_gary.approvals.schemas import ApprovalRead
from crazy_gary.kit.clock import iso


def approval_dict(row: Approval) -> dict[str, Any]:
    return {"id": row.id, "task_id": row.task_id, "tool": row.tool,
            "tool_call_id": row.tool_call_id, "arguments": row.arguments, "reason": row.reason,
            "status": row.status, "requested_at": iso(row.requested_at),
            "expires_at": iso(row.expires_at), "decided_at": iso(row.decided_at),
            "decided_arguments": row.decided_arguments, "comment": row.comment}


def approval_read(row: Approval) -> ApprovalRead:
    return ApprovalRead.model_validate(approval_dict(row))


def event_payload(row: Approval) -> dict[str, Any]:
    """`approval_requested` / `approval_decided`: the approval, and its owner as a string
    (as the task events show it)."""
    return {**approval_dict(row), "approval_id": row.id, "user_id": str(row.user_id)}
