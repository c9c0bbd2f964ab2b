"""A live event feed that clients can resume: ids, a bounded replay buffer, a gap notice.

Every event published gets the next integer id. The feed keeps the last
``capacity`` events; a subscriber that names the last id it saw (the
``Last-Event-ID`` a reconnecting ``EventSource`` sends) gets every event after
it, none twice, then the live ones. A subscriber whose id is no longer in the
buffer (too far behind, or an id this feed never issued) first gets a
:data:`GAP` event, documented in the spec, saying which events it missed,
and then everything the buffer still holds.

A feed belongs to the event loop of the server that created it.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import AsyncIterator

import anyio

from spec.sse import Event

GAP = "gap"
"""The type of the event that tells a subscriber it missed events the buffer no longer holds."""


def gap_event(last_event_id: str, first_available: int) -> Event:
    """The event telling a subscriber that resumed at *last_event_id* what it missed."""
    payload = {"last_event_id": last_event_id, "first_available": first_available}
    return Event(data=json.dumps(payload), event=GAP)


class Feed:
    """Events with increasing integer ids, the last *capacity* of them kept for replay."""

    def __init__(self, capacity: int = 256) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._events: deque[tuple[int, Event]] = deque(maxlen=capacity)
        self._next_id = 1
        self._published = anyio.Event()

    def publish(self, data: str, event: str | None = None) -> int:
        """Append an event and wake the subscribers; return its id."""
        event_id = self._next_id
        self._next_id += 1
        self._events.append((event_id, Event(data=data, event=event, id=str(event_id))))
        self._published.set()
        self._published = anyio.Event()
        return event_id

    @property
    def oldest_id(self) -> int:
        """The id of the oldest event still held (the next id when the feed is empty)."""
        return self._events[0][0] if self._events else self._next_id

    def _start_after(self, last_event_id: str | None) -> tuple[int, Event | None]:
        """Where a subscriber resumes: the last id it has, and the gap event it is owed."""
        if not last_event_id:
            return self.oldest_id - 1, None
        ours = len(last_event_id) <= 18 and last_event_id.isascii() and last_event_id.isdigit()
        seen = int(last_event_id) if ours else -1
        if self.oldest_id - 1 <= seen < self._next_id:
            return seen, None
        return self.oldest_id - 1, gap_event(last_event_id, self.oldest_id)

    async def subscribe(self, last_event_id: str | None = None) -> AsyncIterator[Event]:
        """Yield the events after *last_event_id* (all held ones if ``None``), then live ones."""
        position, gap = self._start_after(last_event_id)
        if gap is not None:
            yield gap
        while True:
            if position + 1 < self.oldest_id:
                # This subscriber fell behind while it was being served.
                yield gap_event(str(position), self.oldest_id)
                position = self.oldest_id - 1
            pending = [(i, e) for i, e in self._events if i > position]
            for event_id, event in pending:
                yield event
                position = event_id
            if not pending:
                await self._published.wait()
