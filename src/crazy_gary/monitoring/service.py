"""Request/error logs, request statistics and retention."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crazy_gary.kit.clock import utcnow
from crazy_gary.kit.dml import rows_changed
from crazy_gary.kit.pagination import Page, fetch_page
from crazy_gary.monitoring.models import ErrorLog, Executor, RequestLog
from crazy_gary.monitoring.schemas import RequestMetrics

STREAM_PATHS = ("/api/observability/events/stream",)  # long-lived: not a latency sample


async def request_logs(
    session: AsyncSession, *, page: Page, start_time: datetime | None
) -> tuple[list[RequestLog], int]:
    """Newest first; with `start_time`, only requests from then on."""
    query = select(RequestLog).order_by(RequestLog.id.desc())
    if start_time is not None:
        query = query.where(RequestLog.timestamp >= start_time)
    return await fetch_page(session, query, page)


async def error_logs(
    session: AsyncSession, *, page: Page, level: str | None
) -> tuple[list[ErrorLog], int]:
    query = select(ErrorLog).order_by(ErrorLog.id.desc())
    if level:
        query = query.where(ErrorLog.level == level.lower())
    return await fetch_page(session, query, page)


async def request_totals(session: AsyncSession) -> RequestMetrics:
    """Requests served by every process within the log retention."""
    failed = func.sum(case((RequestLog.status_code >= 400, 1), else_=0))
    avg = func.avg(case((RequestLog.path.in_(STREAM_PATHS), None),
                        else_=RequestLog.response_time))
    total, failed_count, average = (await session.execute(
        select(func.count(RequestLog.id), failed, avg))).one()
    failed_count = int(failed_count or 0)
    return RequestMetrics(total=int(total), successful=int(total) - failed_count,
                          failed=failed_count,
                          average_response_time=round(float(average or 0.0), 2))


async def window_stats(session: AsyncSession, *, minutes: int = 5) -> tuple[int, int, float | None]:
    """(requests, server errors, p95 latency ms) over the last `minutes`, all processes.

    The percentile is picked by the database (one row back), not by sorting every
    response time of the window in Python: under load that is hundreds of thousands.
    """
    since = utcnow() - timedelta(minutes=minutes)
    in_window = RequestLog.timestamp >= since
    timed = RequestLog.path.not_in(STREAM_PATHS)  # streams stay open: not a latency
    total, errors, timed_count = (await session.execute(
        select(func.count(RequestLog.id),
               func.sum(case((RequestLog.status_code >= 500, 1), else_=0)),
               func.sum(case((timed, 1), else_=0)))
        .where(in_window))).one()
    p95 = None
    if timed_count:
        rank = min(timed_count - 1, int(0.95 * timed_count))
        p95 = await session.scalar(
            select(RequestLog.response_time).where(in_window, timed)
            .order_by(RequestLog.response_time).offset(rank).limit(1))
    return int(total), int(errors or 0), p95


async def prune_logs(session: AsyncSession, *, older_than: datetime, max_rows: int) -> int:
    """Drop logs past the retention horizon, and the oldest beyond `max_rows` per table."""
    removed = 0
    for model in (RequestLog, ErrorLog):
        removed += await rows_changed(session, delete(model).where(model.timestamp < older_than))
        cutoff = await session.scalar(
            select(model.id).order_by(model.id.desc()).offset(max_rows).limit(1))
        if cutoff is not None:
            removed += await rows_changed(session, delete(model).where(model.id <= cutoff))
    stale = utcnow() - timedelta(days=1)  # executors gone (and taken over) a day ago
    await session.execute(delete(Executor).where(
        Executor.last_seen < stale, Executor.claimed_by.is_not(None)))
    return removed
