"""Database query spans: one `db.query` span per statement inside a traced operation."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from sqlalchemy import Engine, event

from crazy_gary.observability.tracing import tracer

_KEY = "crazy_gary_spans"


def instrument_engine(sync: Engine) -> None:
    """Attach span hooks to a (sync or async's sync) engine; untraced work (background
    flushes) opens no spans."""
    system = sync.dialect.name

    @event.listens_for(sync, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):
        if not trace.get_current_span().is_recording():
            return
        verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
        span = tracer.start_span(f"db.{verb.lower()}", kind=SpanKind.CLIENT, attributes={
            "db.system": system, "db.statement": statement[:500]})
        conn.info.setdefault(_KEY, []).append(span)

    @event.listens_for(sync, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany):
        spans = conn.info.get(_KEY)
        if spans:
            spans.pop().end()

    @event.listens_for(sync, "handle_error")
    def _error(exception_context):
        conn = exception_context.connection
        spans = conn.info.get(_KEY) if conn is not None else None
        if spans:
            span = spans.pop()
            span.set_status(Status(StatusCode.ERROR, type(exception_context.original_exception)
                                   .__name__))
            span.end()
