"""Approvals and the intent log of write tool calls."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crazy_gary.db import Base, UTCDateTime, utcnow

PENDING, APPROVED, DENIED, EXPIRED, CANCELLED = (
    "pending", "approved", "denied", "expired", "cancelled")
STATUSES = (PENDING, APPROVED, DENIED, EXPIRED, CANCELLED)


class Approval(Base):
    """One tool call put to the task's owner. `call_key` is unique per task: the step's
    sequence number and the model's tool call id (plus why it is asked), so a step re-run
    after a crash finds the approval it created instead of asking twice."""

    __tablename__ = "approvals"
    __table_args__ = (
        UniqueConstraint("task_id", "call_key", name="uq_approvals_task_call"),
        Index("ix_approvals_user_requested", "user_id", "requested_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    call_key: Mapped[str] = mapped_column(String(300))
    tool_call_id: Mapped[str] = mapped_column(String(200))
    tool: Mapped[str] = mapped_column(String(200))
    arguments: Mapped[Any] = mapped_column(JSON, nullable=True)
    parameters_schema: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=PENDING, index=True)
    decided_arguments: Mapped[Any] = mapped_column(JSON, nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ToolIntent(Base):
    """Written just before a `write` tool call starts (one row per step and attempt): a step
    re-run after a crash that finds its row knows the call may have happened."""

    __tablename__ = "tool_intents"
    __table_args__ = (
        UniqueConstraint("task_id", "seq", "attempt", name="uq_tool_intents_task_seq_attempt"),
        {"sqlite_autoincrement": True},  # ids never reused (migration 0009)
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    tool: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
