"""Live events: one ordered log, fanned out to SSE streams and socket.io rooms.

Domains publish through `publish` only; they never import socket.io or SSE code.
"""

from crazy_gary.realtime.service import publish

__all__ = ["publish"]
