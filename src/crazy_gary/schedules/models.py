"""Schedules and the record of each of their ticks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crazy_gary.db import Base, UTCDateTime, utcnow
from crazy_gary.schedules.status import Overlap


class Schedule(Base):
    __tablename__ = "schedules"
    __table_args__ = (Index("ix_schedules_user_created", "user_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    cron: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # The task each tick creates: title, description, model, priority, limits, tools,
    # tool_policy (the fields of POST /api/tasks).
    task: Mapped[dict[str, Any]] = mapped_column(JSON)
    overlap: Mapped[str] = mapped_column(String(16), default=Overlap.SKIP)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    catch_up: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class ScheduleRun(Base):
    """One tick (or run-now) of a schedule: fired, skipped or queued, and its task.

    Unique by (schedule, scheduled time): a tick's step run twice records it once."""

    __tablename__ = "schedule_runs"
    __table_args__ = (
        UniqueConstraint("schedule_id", "scheduled_for", name="uq_schedule_runs_tick"),
        {"sqlite_autoincrement": True},  # ids never reused (migration 0009)
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    schedule_id: Mapped[str] = mapped_column(
        ForeignKey("schedules.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    trigger: Mapped[str] = mapped_column(String(16))
    task_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The durable workflow of the tick (it starts a queued task once the previous ended).
    workflow_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # why a tick was skipped: the previous run still going, or the owner's monthly quota
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    scheduled_for: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
