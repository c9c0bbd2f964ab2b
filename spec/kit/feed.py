"""A live event feed that clients can resume: ids, a bounded replay buffer, a gap notice.

Every event published gets the next integer id. The feed keeps the last
``capacity`` events; a subscriber that names the last id it saw (the
``Last-Event-ID`` a reconnecting ``EventSource`` sends) gets every event after
it, none twice, then the live ones. A subscriber whose id is no longer in the
buffer (too far behind, or an id this feed never issued) first gets a
:data:`GAP` event, documented in the spec, saying which events it missed,
and then everything the buffer still holds.

A feed belongs to the event loop of the server that created it.

Where the feeds live is a backend (:class:`FeedBackend`): :class:`MemoryFeeds`,
the default, keeps them in this process, so a client that reconnects to
another process of the same service finds another feed, or none; the Redis
backend (:mod:`spec.kit.feed_redis`, ``Kit(feed=feed_backend("redis://..."))``)
keeps them in Redis Streams, shared by every process and host that names the
same Redis. A backend that loses its store ends each open stream with a
:data:`UNAVAILABLE` event; the client resumes with its ``Last-Event-ID`` once
the store is back.

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
from typing import Protocol

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


UNAVAILABLE = "unavailable"
"""The type of the last event of a stream whose backend lost its store (its data is JSON
``{"reason": ...}``, it has no id); the client reconnects with its ``Last-Event-ID``."""


class FeedUnavailable(Exception):
    """The backend cannot reach its store; the message says why."""


def unavailable_event(reason: str) -> Event:
    """The event that ends a stream whose backend lost its store."""
    return Event(data=json.dumps({"reason": reason}), event=UNAVAILABLE)


def gap_event(last_event_id: str, first_available: int | str) -> Event:
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


class FeedBackend(Protocol):
    """Where the feeds of a kit live, by name."""

    async def publish(self, name: str, data: list[str]) -> list[str]:
        """Append each string to feed *name* (creating it), in order; return their ids.

        Raises:
            FeedUnavailable: the store cannot be reached; nothing may have been published.
        """
        ...

    async def exists(self, name: str) -> bool:
        """Whether feed *name* has been published to (and not forgotten).

        Raises:
            FeedUnavailable: the store cannot be reached.
        """
        ...

    def subscribe(self, name: str, last_event_id: str | None) -> AsyncIterator[Event]:
        """Feed *name*'s events after *last_event_id* (a :data:`GAP` first if it is not
        held), then live ones, without end; an :data:`UNAVAILABLE` event, and the end, if
        the store is lost."""
        ...


class MemoryFeeds:
    """Feeds in this process's memory, each holding *capacity* events, at most *limit*
    feeds (the oldest is forgotten past it)."""

    def __init__(self, capacity: int, limit: int) -> None:
        self.capacity = capacity
        self.limit = limit
        self._feeds: dict[str, Feed] = {}

    async def publish(self, name: str, data: list[str]) -> list[str]:
        """Append to the named feed, creating it (and forgetting the oldest past the limit)."""
        feed = self._feeds.get(name)
        if feed is None:
            if len(self._feeds) >= self.limit:
                self._feeds.pop(next(iter(self._feeds)))
            feed = self._feeds[name] = Feed(self.capacity)
        return [str(feed.publish(d)) for d in data]

    async def exists(self, name: str) -> bool:
        """Whether this process holds feed *name*."""
        return name in self._feeds

    def subscribe(self, name: str, last_event_id: str | None) -> AsyncIterator[Event]:
        """:meth:`Feed.subscribe` of the named feed, which must exist."""
        return self._feeds[name].subscribe(last_event_id)


# --- The routes ------------------------------------------------------------------------------

FEED_CAPACITY = 64
"""The events a feed holds for replay (the surface asks for at least 64)."""

MAX_BODY = 64 * 1024
"""The largest body ``POST /conformance/feed/{name}`` accepts, in bytes; a larger one gets
413 and the connection is closed (:mod:`spec.kit.bodies`)."""

MAX_FEEDS = 256
"""The feeds a kit keeps at once in memory; the oldest is forgotten past it."""


def feed_backend(location: str = "memory") -> FeedBackend:
    """The backend named by *location*: ``memory`` (:class:`MemoryFeeds`), or a Redis URL
    (``redis://host:port/db``, :class:`spec.kit.feed_redis.RedisFeeds`, which needs the
    ``redis`` extra); each feed holds :data:`FEED_CAPACITY` events.

    Raises:
        ValueError: *location* is neither.
    """
    if location == "memory":
        return MemoryFeeds(FEED_CAPACITY, MAX_FEEDS)
    if location.startswith(("redis://", "rediss://", "unix://")):
        from spec.kit.feed_redis import RedisFeeds  # noqa: PLC0415 (the extra is optional)

        return RedisFeeds(location, FEED_CAPACITY)
    raise ValueError(f"a feed backend is 'memory' or a redis:// URL, not {location!r}")


def _unavailable(error: FeedUnavailable) -> Response:
    return PlainTextResponse(f"the feed's store is unavailable: {error}\n", status_code=503)


def build_router(supplied: Factories, feeds: FeedBackend | None = None) -> APIRouter:
    """``POST`` and ``GET /conformance/feed/{name}``, streamed by the SSE factory (if any),
    the feeds kept by *feeds* (in memory when ``None``); 503 while its store is lost."""
    router = APIRouter()
    sse = supplied.sse
    if sse is None:
        return router
    backend = feeds if feeds is not None else feed_backend()

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
        try:
            return JSONResponse({"ids": await backend.publish(name, data)})
        except FeedUnavailable as error:
            return _unavailable(error)

    @router.api_route(FEED_PATH + "/{name}", methods=["GET", "HEAD"])
    async def subscribe(name: str, request: Request) -> Response:
        """The feed from after the request's ``Last-Event-ID`` (any length), then live."""
        try:
            if not await backend.exists(name):
                return PlainTextResponse(f"no feed named {name!r}\n", status_code=404)
        except FeedUnavailable as error:
            return _unavailable(error)
        asked = SSERequest(
            events=backend.subscribe(name, request.headers.get("last-event-id")),
            headers={},
            keepalive=None,
            send_timeout=None,
            scope=request.scope,
        )
        return await respond(sse.factory, asked)

    return router
