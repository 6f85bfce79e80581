"""Access tokens never reach a log line.

Socket.IO clients may send their token as `?token=` (the contract's form), and anything can
put `token` or `access_token` in a query string; uvicorn's access log and any message that
quotes a URL would then write a working credential to disk. A log-record factory redacts
those parameters in every record the process creates (message and arguments), before any
handler or formatter sees it.
"""

from __future__ import annotations

import logging
import re
from typing import Any

# `token=` or `access_token=` (any case) at the start of a query parameter, up to the next
# separator.
_TOKEN_PARAM = re.compile(r"(?i)((?:^|[?&;\s\"'])(?:access_)?token=)[^&;\s\"'#]+")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """`text` with the values of token query parameters replaced."""
    if "=" not in text or "token=" not in text.lower():
        return text
    return _TOKEN_PARAM.sub(rf"\g<1>{REDACTED}", text)


def _redact_value(value: object) -> object:
    return redact(value) if isinstance(value, str) else value


def redact_record(record: logging.LogRecord) -> None:
    if isinstance(record.msg, str):
        record.msg = redact(record.msg)
    args = record.args
    if isinstance(args, tuple):
        if any(isinstance(a, str) for a in args):
            record.args = tuple(_redact_value(a) for a in args)
    elif isinstance(args, dict):
        record.args = {k: _redact_value(v) for k, v in args.items()}


def install_log_redaction() -> None:
    """Wrap the process's log-record factory once (idempotent)."""
    current = logging.getLogRecordFactory()
    if getattr(current, "redacts_tokens", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        redact_record(record)
        return record

    factory.redacts_tokens = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
