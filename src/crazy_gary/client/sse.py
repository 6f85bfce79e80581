"""A Server-Sent Events parser over a stream of lines (the WHATWG event-stream format)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass


@dataclass
class Frame:
    """A dispatched event (`data` set) or a comment line (`comment` set)."""

    event: str = "message"
    data: str | None = None
    id: str | None = None
    retry: int | None = None
    comment: str | None = None


async def frames(lines: AsyncIterator[str]) -> AsyncIterator[Frame]:
    """Frames in order; an event is dispatched at the blank line that ends it."""
    event, last_id, retry = "message", None, None
    data: list[str] = []
    async for raw in lines:
        line = raw.rstrip("\r\n")
        if not line:
            if data:
                yield Frame(event=event, data="\n".join(data), id=last_id, retry=retry)
            event, data, retry = "message", [], None
            continue
        if line.startswith(":"):
            yield Frame(comment=line[1:].strip())
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value
        elif name == "id" and "\x00" not in value:
            last_id = value
        elif name == "retry" and value.isdigit():
            retry = int(value)
