"""What the conformance surface tells the suite about its producers: started, produced, cleaned up.

One :class:`Observations` belongs to one app. Records are kept for the last
``capacity`` stream ids only, so a client that opens streams forever cannot
grow it without bound. ``started`` and ``cleanup`` are :class:`Flag` objects: set
any thread (a sync producer's ``finally`` runs in a worker thread), awaited on
the event loop without a thread (``GET /conformance/observe?until=`` long-polls,
and sixty such polls must not take sixty worker threads from the app's downloads).

Moved from the reference app (``impl/observations.py``). Written by hand: the
observation records are streamspec's own protocol (``GET /conformance/observe``).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio


class Flag:
    """A one-way flag: :meth:`set` from any thread, :meth:`wait` for it on the event loop.

    A waiter costs an :class:`anyio.Event` of its own loop and no thread; ``set`` wakes
    each through its loop's ``call_soon_threadsafe``, so it never blocks and works from
    the loop thread too.
    """

    def __init__(self) -> None:
        self._set = False
        self._lock = threading.Lock()
        self._wakers: list[Callable[[], None]] = []

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        """Set the flag and wake every waiter (idempotent)."""
        with self._lock:
            self._set = True
            wakers, self._wakers = self._wakers, []
        for wake in wakers:
            wake()

    async def wait(self) -> None:
        """Return once the flag is set (at once if it is); cancel it to stop waiting."""
        event = anyio.Event()
        wake = _threadsafe(event.set)
        with self._lock:
            if self._set:
                return
            self._wakers.append(wake)
        try:
            await event.wait()
        finally:
            with self._lock:
                if wake in self._wakers:
                    self._wakers.remove(wake)


def _threadsafe(call: Callable[[], None]) -> Callable[[], None]:
    """*call*, made callable from any thread: run soon on the running asyncio loop.

    The kit is served on asyncio (every ASGI server it is judged under runs one);
    a waiter on another event loop library raises ``RuntimeError`` here."""
    loop = asyncio.get_running_loop()
    return lambda: _ignore_closed(lambda: loop.call_soon_threadsafe(call))


def _ignore_closed(schedule: Callable[[], object]) -> None:
    # A loop that has closed since its waiter began has nobody left to wake.
    with contextlib.suppress(RuntimeError):
        schedule()


@dataclass
class Record:
    """The facts about one stream's producer."""

    produced: int = 0
    started: Flag = field(default_factory=Flag)
    cleanup: Flag = field(default_factory=Flag)

    def as_json(self) -> dict[str, Any]:
        return {
            "started": self.started.is_set(),
            "produced": self.produced,
            "cleanup": self.cleanup.is_set(),
        }


class Observations:
    """Records by stream id, the oldest forgotten past *capacity*."""

    def __init__(self, capacity: int = 1024) -> None:
        self.capacity = capacity
        self._records: OrderedDict[str, Record] = OrderedDict()
        self._lock = threading.Lock()

    def new(self, stream_id: str) -> Record:
        """A fresh record for *stream_id* (replacing an older one of that id)."""
        record = Record()
        with self._lock:
            self._records[stream_id] = record
            self._records.move_to_end(stream_id)
            while len(self._records) > self.capacity:
                self._records.popitem(last=False)
        return record

    def get(self, stream_id: str) -> Record | None:
        with self._lock:
            return self._records.get(stream_id)
