"""Feeds in Redis Streams, shared by every process and host that names the same Redis.

Each feed is the stream ``streamspec:feed:{name}``; an event is one entry with
a ``data`` field, and its SSE id is the entry's id (``1700000000000-0``), so
any process can resume any client: the ids are the store's, not a process's.

* Publishing is ``XADD ... MAXLEN capacity`` (exact, in one transaction for
  the events of one request): the stream is the replay window.
* Resuming after an id is ``XRANGE key (id +``, in pages.
* Live events are read by one ``XREAD BLOCK`` loop per feed and process (a
  tail, :class:`_Tail`), which keeps the last *capacity* entries it read and
  wakes the process's subscribers: a thousand subscribers cost one blocked
  Redis connection a process, not a thousand. A subscriber joins the tail
  *before* it replays the history, and takes from the tail only the entries
  after the last id it delivered (de-duplication by id): an event published
  while the replay ran is in the tail, and none arrives twice. A subscriber
  that is behind what the tail holds catches up from the stream (``XRANGE``).
* A ``Last-Event-ID`` is held when it is not later than the stream's last id
  and no entry after it can have been removed (``XINFO STREAM``, Redis 7:
  nothing was ever trimmed, or the id is not before the oldest entry held, nor
  before ``max-deleted-entry-id``): otherwise the subscriber first gets the
  ``gap`` event, as in memory. Redis does not keep the id of the last entry
  trimmed, so a client whose id is exactly that one is told of a gap it did
  not suffer, then gets exactly the events after its id: a notice too many,
  never an event lost. A subscriber that falls behind while it is served is
  told likewise.
* A lost connection to Redis ends the stream with the ``unavailable`` event
  (:data:`spec.kit.feed.UNAVAILABLE`); publishing answers 503 meanwhile. The
  client reconnects with its ``Last-Event-ID`` and, once Redis is back with
  its data (persisted, or a replica), resumes exactly.

The client is redis-py's asyncio one (the ``redis`` extra), one per event
loop: its connections belong to the loop that opened them.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from spec.kit.feed import FeedUnavailable, gap_event, unavailable_event
from spec.sse import Event

KEY_PREFIX = "streamspec:feed:"
"""The prefix of every feed's stream key."""

BLOCK_MS = 5_000
"""How long one ``XREAD BLOCK`` waits before it is issued again, in milliseconds."""

SOCKET_TIMEOUT = BLOCK_MS / 1000 + 5
"""Seconds without an answer from Redis after which the connection counts as lost (longer
than a ``BLOCK``; redis-py's own default, 5 s, is not)."""

PAGE = 256
"""The entries one ``XRANGE`` or ``XREAD`` returns at most."""

_STREAM_ID = re.compile(r"\A([0-9]{1,20})-([0-9]{1,20})\Z")

Entry = tuple[str, dict[str, str]]
"""A stream entry as redis-py returns it (RESP2, decoded): its id, its fields."""

_LOST = (RedisConnectionError, RedisTimeoutError, OSError)


def parse_id(text: str) -> tuple[int, int] | None:
    """A stream id as (milliseconds, sequence), or ``None`` when *text* is not one."""
    match = _STREAM_ID.match(text)
    return (int(match[1]), int(match[2])) if match else None


class _Tail:
    """The one ``XREAD BLOCK`` loop of a feed in one event loop, shared by its subscribers.

    It reads from the stream's last id when it starts, keeps the last *capacity*
    entries it read in :attr:`recent`, and wakes the subscribers after each read.
    ``floor`` is the id after which :attr:`recent` holds every entry (the start, then
    the last entry pushed out); ``error`` is what ended it, if Redis was lost.
    """

    def __init__(self, capacity: int) -> None:
        self.recent: deque[Entry] = deque(maxlen=capacity)
        self.floor = "0-0"
        self.started = asyncio.Event()
        self.changed = asyncio.Event()
        self.error: BaseException | None = None
        self.users = 0
        self.task: asyncio.Task[None] | None = None

    async def run(self, client: aioredis.Redis, key: str, block_ms: int) -> None:
        try:
            info: dict[str, Any] = await client.xinfo_stream(key)
            self.floor = position = str(info["last-generated-id"])
            self.started.set()
            while True:
                answer: Any = await client.xread({key: position}, count=PAGE, block=block_ms)
                if not answer:
                    continue
                entries: list[Entry] = answer[0][1]  # [[key, entries]]: one key, RESP2
                info = await client.xinfo_stream(key)
                if not _held(info, position):
                    # Trimmed before this read reached it: the tail has a hole, so it
                    # holds nothing its subscribers may take without asking the stream.
                    self.recent.clear()
                    self.floor = entries[-1][0]
                    entries = []
                for entry in entries:
                    if len(self.recent) == self.recent.maxlen:
                        self.floor = self.recent[0][0]
                    self.recent.append(entry)
                for entry in entries[-1:]:
                    position = entry[0]
                position = max(position, self.floor, key=_key)
                self.changed.set()
                self.changed = asyncio.Event()
        except Exception as error:  # kept for the subscribers, who end with it
            self.error = error
            self.started.set()
            self.changed.set()


class RedisFeeds:
    """Feeds in the Redis at *url*, each stream trimmed to its last *capacity* entries.

    Each event loop has its own client (a pool of at most *connections*, waited for when
    all are busy) and, per feed with subscribers, one :class:`_Tail`: the live events
    cost one Redis connection per feed and process, not one per subscriber.
    """

    def __init__(
        self, url: str, capacity: int, *, block_ms: int = BLOCK_MS, connections: int = 32
    ) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.url = url
        self.capacity = capacity
        self.block_ms = block_ms
        self.connections = connections
        self._clients: dict[asyncio.AbstractEventLoop, aioredis.Redis] = {}
        self._tails: dict[tuple[asyncio.AbstractEventLoop, str], _Tail] = {}
        self._ending: set[asyncio.Task[None]] = set()  # cancelled tails, until they end

    def _client(self) -> aioredis.Redis:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            for closed in [other for other in self._clients if other.is_closed()]:
                del self._clients[closed]
            pool = aioredis.BlockingConnectionPool.from_url(
                self.url,
                decode_responses=True,
                protocol=2,
                max_connections=self.connections,
                timeout=SOCKET_TIMEOUT,  # waiting for a free connection
                socket_timeout=SOCKET_TIMEOUT,
            )
            client = self._clients[loop] = aioredis.Redis(connection_pool=pool)
        return client

    def _join(self, key: str) -> _Tail:
        """The feed's tail in this loop, started if it was not running."""
        where = (asyncio.get_running_loop(), key)
        tail = self._tails.get(where)
        if tail is None or tail.error is not None:
            tail = self._tails[where] = _Tail(self.capacity)
            tail.task = asyncio.create_task(tail.run(self._client(), key, self.block_ms))
        tail.users += 1
        return tail

    def _leave(self, key: str, tail: _Tail) -> None:
        tail.users -= 1
        if tail.users == 0 and tail.task is not None:
            tail.task.cancel()
            self._ending.add(tail.task)
            tail.task.add_done_callback(self._ending.discard)
            where = (asyncio.get_running_loop(), key)
            if self._tails.get(where) is tail:
                del self._tails[where]

    async def aclose(self) -> None:
        """Stop this loop's tails and close its client (a backend used by one loop only,
        such as a test's, closes what it opened)."""
        loop = asyncio.get_running_loop()
        tasks = [task for task in self._ending if task.get_loop() is loop]
        for where in [where for where in self._tails if where[0] is loop]:
            task = self._tails.pop(where).task
            if task is not None:
                task.cancel()
                tasks.append(task)
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        client = self._clients.pop(loop, None)
        if client is not None:
            await client.aclose(close_connection_pool=True)

    async def publish(self, name: str, data: list[str]) -> list[str]:
        """``XADD`` each string, ``MAXLEN`` the capacity, in one transaction; the new ids."""
        try:
            async with self._client().pipeline(transaction=True) as pipe:
                for one in data:
                    pipe.xadd(
                        KEY_PREFIX + name, {"data": one}, maxlen=self.capacity, approximate=False
                    )
                return [str(event_id) for event_id in await pipe.execute()]
        except _LOST as error:
            raise FeedUnavailable(str(error) or type(error).__name__) from error

    async def exists(self, name: str) -> bool:
        """Whether the feed's stream exists."""
        try:
            return bool(await self._client().exists(KEY_PREFIX + name))
        except _LOST as error:
            raise FeedUnavailable(str(error) or type(error).__name__) from error

    async def subscribe(self, name: str, last_event_id: str | None) -> AsyncIterator[Event]:
        """The events after *last_event_id*, then live ones; ``unavailable`` if Redis is lost."""
        key = KEY_PREFIX + name
        tail = self._join(key)  # subscribed before the replay: nothing falls between
        try:
            async for event in self._events(key, tail, last_event_id):
                yield event
        except _LOST as error:
            yield unavailable_event(str(error) or type(error).__name__)
        finally:
            self._leave(key, tail)

    async def _events(
        self, key: str, tail: _Tail, last_event_id: str | None
    ) -> AsyncIterator[Event]:
        client = self._client()
        await tail.started.wait()
        position, replay = last_event_id or "0-0", True
        while True:
            if tail.error is not None:
                raise tail.error
            if replay or _after(tail.floor, position):
                # From the stream: the history (a gap first if the id is not held), or,
                # for a subscriber that fell behind the tail's window, a catch-up.
                async for event_id, event in self._replay(client, key, position):
                    yield event
                    position = event_id
                # Still before the floor (the tail moved on while this replay waited on
                # its reader)? The loop replays again, from the stream.
                replay = False
                continue
            changed = tail.changed
            fresh = _newer(tail.recent, position)  # de-duplicated by id
            for event_id, fields in fresh:
                yield _event(event_id, fields)
                position = event_id
            if not fresh:
                await changed.wait()

    async def _replay(
        self, client: aioredis.Redis, key: str, position: str
    ) -> AsyncIterator[tuple[str, Event]]:
        """The entries after *position*, from the stream; a gap first if it is not held."""
        info: dict[str, Any] = await client.xinfo_stream(key)
        if position != "0-0" and not _held(info, position):
            yield "0-0", gap_event(position, _first_id(info))
            position = "0-0"
        while True:
            page: Any = await client.xrange(key, min=f"({position}", count=PAGE)
            for event_id, fields in page:
                yield event_id, _event(event_id, fields)
                position = event_id
            if len(page) < PAGE:
                return


def _newer(recent: deque[Entry], position: str) -> list[Entry]:
    """The entries of *recent* (in id order) after *position*, read from the newest back:
    a wake-up costs what is new, not the whole window."""
    newer: list[Entry] = []
    for entry in reversed(recent):
        if not _after(entry[0], position):
            break
        newer.append(entry)
    newer.reverse()
    return newer


def _key(event_id: str) -> tuple[int, int]:
    return parse_id(event_id) or (-1, -1)


def _after(event_id: str, position: str) -> bool:
    one, other = parse_id(event_id), parse_id(position)
    return one is not None and other is not None and one > other


def _held(info: dict[str, Any], last_event_id: str) -> bool:
    """Whether every entry after *last_event_id* is still in the stream: the id is not later
    than the stream's last, and either nothing was ever removed or it is not before the
    oldest entry held (nor before an entry removed by ``XDEL``)."""
    seen = parse_id(last_event_id)
    last = parse_id(str(info["last-generated-id"]))
    deleted = parse_id(str(info.get("max-deleted-entry-id", "0-0")))
    if seen is None or last is None or deleted is None or not deleted <= seen <= last:
        return False
    if int(info.get("entries-added", info["length"])) == int(info["length"]):
        return True
    first = info.get("first-entry")
    oldest = parse_id(str(first[0])) if first else last
    return oldest is not None and oldest <= seen


def _first_id(info: dict[str, Any]) -> str:
    first = info.get("first-entry")
    return str(first[0]) if first else str(info["last-generated-id"])


def _event(event_id: str, fields: dict[str, str]) -> Event:
    return Event(data=fields.get("data", ""), event=fields.get("event"), id=event_id)
