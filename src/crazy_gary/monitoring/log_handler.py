"""A logging handler that keeps errors (and our own warnings) in the error log table."""

from __future__ import annotations

import logging
import traceback

from crazy_gary.kit.clock import utcnow
from crazy_gary.monitoring.middleware import current_request_id
from crazy_gary.monitoring.recorder import Telemetry

COMPONENTS = {
    "sqlalchemy": "database", "aiosqlite": "database", "asyncpg": "database",
    "dbos": "durable", "uvicorn": "server", "socketio": "realtime", "engineio": "realtime",
    "redis": "redis", "httpx": "http", "mcp": "mcp", "openai": "llm",
}


def component_of(logger_name: str) -> str:
    parts = logger_name.split(".")
    if parts[0] == "crazy_gary":
        if len(parts) < 2 or parts[1] in ("kit", "errors", "app"):
            return "api"  # request plumbing: unhandled errors surface here
        return parts[1]
    return COMPONENTS.get(parts[0], parts[0])


CANCEL_ERRORS = {"DBOSWorkflowCancelledError", "DBOSAwaitedWorkflowCancelledError",
                 "CancelledError"}


def is_noise(record: logging.LogRecord) -> bool:
    """The engine logs a full traceback for every cancelled workflow: that is not an error."""
    if record.name == "crazy_gary.monitoring.recorder":
        return True
    exc_type = record.exc_info[0] if record.exc_info else None
    if exc_type is not None and exc_type.__name__ in CANCEL_ERRORS:
        return True
    return record.name.startswith("dbos") and "cancel" in record.getMessage().lower()


class DatabaseLogHandler(logging.Handler):
    """Warnings and errors into the runtime's recorder (the error log)."""

    def __init__(self, recorder: Telemetry) -> None:
        super().__init__(level=logging.WARNING)
        self.recorder = recorder

    def emit(self, record: logging.LogRecord) -> None:
        try:
            ours = record.name.startswith("crazy_gary")
            if record.levelno < logging.ERROR and not ours:
                return
            if is_noise(record):
                return
            stack = None
            if record.exc_info and record.exc_info[0] is not None:
                stack = "".join(traceback.format_exception(*record.exc_info))
            elif record.stack_info:
                stack = record.stack_info
            self.recorder.record_error({
                "timestamp": utcnow(),
                "level": record.levelname.lower(),
                "message": record.getMessage()[:10_000],
                "component": component_of(record.name),
                "logger": record.name[:256],
                "request_id": current_request_id.get(),
                "stack_trace": stack[:50_000] if stack else None,
            })
        except Exception:  # a logging handler must never raise
            self.handleError(record)


def install(handler: DatabaseLogHandler) -> None:
    """Attach the handler to the root logger (logging is process-wide: `uninstall` at stop)."""
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.WARNING:
        # Root at WARNING lets our warnings through; uvicorn's own config stays intact.
        root.setLevel(logging.WARNING)
    attach_to_isolated_loggers(handler)


def uninstall(handler: DatabaseLogHandler) -> None:
    for name in ("", "dbos", "uvicorn"):
        logging.getLogger(name or None).removeHandler(handler)


def attach_to_isolated_loggers(handler: DatabaseLogHandler) -> None:
    """Libraries that log to their own handlers without propagating (uvicorn; the engine once
    launched) get the handler too. Idempotent."""
    for name in ("dbos", "uvicorn"):
        logger = logging.getLogger(name)
        if not logger.propagate and handler not in logger.handlers:
            logger.addHandler(handler)
