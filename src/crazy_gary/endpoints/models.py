"""The durable status record of each model endpoint (shared by every process)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crazy_gary.db import Base, UTCDateTime, utcnow


class EndpointRecord(Base):
    __tablename__ = "model_endpoints"

    key: Mapped[str] = mapped_column(String(16), primary_key=True)
    provider: Mapped[str] = mapped_column(String(16), default="none")
    status: Mapped[str] = mapped_column(String(16), default="sleeping")
    url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    last_activity: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    wake_time: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sleep_time: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # When the current waking/stopping operation began (a stale one may be taken over).
    operation_started: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
