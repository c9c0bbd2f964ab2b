"""A live event feed that clients can resume: ids, a bounded replay buffer, a gap notice.

Every event published gets the next integer id. The feed keeps the last
``capacity`` events; a subscriber that names the last id it saw (the
``Last-Event-ID`` a reconnecting ``EventSource`` sends) gets every event after
it, none twice, then the live ones. A subscriber whose id is no longer in the
buffer (too far behind, or an id this feed never issued) first gets a
:data:`GAP` event, documented in the spec, saying which events it missed,
and then everything the buffer still holds.

A feed belongs to the event loop of the server that created it.

Moved from the reference app (``impl/feed.py``, its routes from
``impl/surface_streams.py``); the feed is streamed by the implementation's SSE
factory, so what a reconnecting client receives is the library's writing of
these events. Written by hand: the feed's ids and its ``gap`` event are
streamspec's own protocol.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import AsyncIterator

import anyio
from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from spec.kit.api import SSERequest
from spec.kit.bodies import read_capped, too_large
from spec.kit.factories import Factories, respond
from spec.sse import Event
from spec.surface import FEED_PATH, read_json

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


# --- The routes ------------------------------------------------------------------------------

FEED_CAPACITY = 64
"""The events a feed holds for replay (the surface asks for at least 64)."""

MAX_BODY = 64 * 1024
"""The largest body ``POST /conformance/feed/{name}`` accepts, in bytes; a larger one gets
413 and the connection is closed (:mod:`spec.kit.bodies`)."""

MAX_FEEDS = 256
"""The feeds a kit keeps at once; the oldest is forgotten past it."""


def build_router(supplied: Factories) -> APIRouter:
    """``POST`` and ``GET /conformance/feed/{name}``, streamed by the SSE factory (if any)."""
    router = APIRouter()
    sse = supplied.sse
    if sse is None:
        return router
    feeds: dict[str, Feed] = {}

    @router.post(FEED_PATH + "/{name}")
    async def publish(name: str, request: Request) -> Response:
        """Publish each string of the JSON body as the next event of feed *name*."""
        body = await read_capped(request, MAX_BODY)
        if body is None:
            return too_large(MAX_BODY)
        try:
            data = read_json(body, "the body")
        except ValueError as error:
            return PlainTextResponse(f"refused: {error}\n", status_code=400)
        if not isinstance(data, list) or not all(isinstance(d, str) for d in data):
            return PlainTextResponse("refused: the body must be a JSON list of strings\n", 400)
        feed = feeds.get(name)
        if feed is None:
            if len(feeds) >= MAX_FEEDS:
                feeds.pop(next(iter(feeds)))
            feed = feeds[name] = Feed(FEED_CAPACITY)
        return JSONResponse({"ids": [str(feed.publish(d)) for d in data]})

    @router.api_route(FEED_PATH + "/{name}", methods=["GET", "HEAD"])
    async def subscribe(name: str, request: Request) -> Response:
        """The feed from after the request's ``Last-Event-ID`` (any length), then live."""
        feed = feeds.get(name)
        if feed is None:
            return PlainTextResponse(f"no feed named {name!r}\n", status_code=404)
        asked = SSERequest(
            events=feed.subscribe(request.headers.get("last-event-id")),
            headers={},
            keepalive=None,
            send_timeout=None,
            scope=request.scope,
        )
        return await respond(sse.factory, asked)

    return router
