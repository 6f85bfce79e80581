"""The usage ledger, the monthly counters the quota check reads, and per-user limits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crazy_gary.db import Base, UTCDateTime, utcnow

# Monthly totals and limits may pass 2**31 tokens on a busy deployment.
BIG = BigInteger().with_variant(Integer, "sqlite")


class UsageRecord(Base):
    """One model call or tool call, written in the transaction that records the task step
    (so a step re-run after a crash, which records nothing twice, bills nothing twice)."""

    __tablename__ = "usage_records"
    __table_args__ = (Index("ix_usage_records_user_at", "user_id", "at"),
                      Index("ix_usage_records_at", "at"),
                      {"sqlite_autoincrement": True})  # ids never reused (migration 0009)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    task_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))  # model, tool
    model: Mapped[str | None] = mapped_column(String(128), nullable=True)
    tool: Mapped[str | None] = mapped_column(String(200), nullable=True)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    day: Mapped[str] = mapped_column(String(10))  # UTC date, YYYY-MM-DD (group_by=day)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class UsageCounter(Base):
    """A user's running totals for one UTC month (`period` YYYY-MM), updated with each
    ledger row: the quota check reads one row by primary key. The `*_warned` flags make the
    80 % warning go out once per month per limit."""

    __tablename__ = "usage_counters"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    tokens: Mapped[int] = mapped_column(BIG, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    tokens_warned: Mapped[bool] = mapped_column(Boolean, default=False)
    cost_warned: Mapped[bool] = mapped_column(Boolean, default=False)


class UserQuota(Base):
    """Monthly limits set by an admin; NULL is unlimited. No row: no limits."""

    __tablename__ = "user_quotas"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         unique=True)
    monthly_tokens: Mapped[int | None] = mapped_column(BIG, nullable=True)
    monthly_cost_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow,
                                                 onupdate=utcnow)
