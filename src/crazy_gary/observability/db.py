"""Database query spans: one `db.<verb>` span per statement inside a traced operation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import ExceptionContext

from crazy_gary.observability.tracing import tracer

_KEY = "crazy_gary_spans"


def start_query_span(system: str, statement: str) -> trace.Span | None:
    """A span for one statement, or None when the current operation is not traced."""
    if not trace.get_current_span().is_recording():
        return None
    verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
    return tracer.start_span(f"db.{verb.lower()}", kind=SpanKind.CLIENT, attributes={
        "db.system": system, "db.statement": statement[:500]})


def _failed(span: trace.Span, exc: BaseException) -> None:
    span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
    span.end()


@contextmanager
def query_span(system: str, statement: str) -> Iterator[None]:
    """Trace a statement run outside SQLAlchemy's engine (see `direct_reads`)."""
    span = start_query_span(system, statement)
    if span is None:
        yield
        return
    try:
        yield
    except BaseException as exc:
        _failed(span, exc)
        raise
    span.end()


def instrument_engine(sync: Engine) -> None:
    """Attach span hooks to a (sync or async's sync) engine; untraced work (background
    flushes) opens no spans."""
    system = sync.dialect.name

    @event.listens_for(sync, "before_cursor_execute")
    def _before(conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any,
                executemany: bool) -> None:
        span = start_query_span(system, statement)
        if span is not None:
            conn.info.setdefault(_KEY, []).append(span)

    @event.listens_for(sync, "after_cursor_execute")
    def _after(conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any,
               executemany: bool) -> None:
        spans = conn.info.get(_KEY)
        if spans:
            spans.pop().end()

    @event.listens_for(sync, "handle_error")
    def _error(exception_context: ExceptionContext) -> None:
        conn = exception_context.connection
        spans = conn.info.get(_KEY) if conn is not None else None
        if spans:
            _failed(spans.pop(), exception_context.original_exception)
