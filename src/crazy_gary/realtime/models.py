"""The event log: one ordered table feeds SSE replay, socket.io and the dashboard."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from crazy_gary.db import Base, UTCDateTime, utcnow


class Event(Base):
    """A logged event, written in the transaction of the change it describes (an outbox row:
    `published_at` is set once it has been fanned out; see realtime/outbox.py)."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_unpublished", "id", sqlite_where=text("published_at IS NULL"),
              postgresql_where=text("published_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    event: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=True
    )
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class OutgoingEvent(Base):
    """An event promised to outside subscribers (webhooks), written with the event row; the
    webhook dispatcher deletes it in the transaction that creates its deliveries."""

    __tablename__ = "outgoing_events"
    __table_args__ = {"sqlite_autoincrement": True}  # ids never reused (migration 0009)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    type: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=True
    )
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
