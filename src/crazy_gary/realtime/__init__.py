"""Live events: one ordered log, fanned out to SSE streams and socket.io rooms.

A state change records its event in its own transaction with `record` (the outbox: fan-out
follows the commit); `publish` logs and fans out an event that stands alone. Domains never
import socket.io or SSE code.
"""

from crazy_gary.realtime.outbox import record
from crazy_gary.realtime.service import publish

__all__ = ["publish", "record"]
