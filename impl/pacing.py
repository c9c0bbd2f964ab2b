"""Go-aheads for paced streams: item *i* of the stream paced by a key waits for go-ahead *i + 1*.

The suite's side is ``/conformance/paced/next``: each call is one go-ahead.
Go-aheads may arrive before the stream they are for has started (they are
counted), so the suite never races the server. The registry holds at most
``capacity`` keys, dropping the oldest, so keys that are never streamed cannot
grow it without bound; a stream forgets its key when it ends.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import anyio


@dataclass
class _Pace:
    allowed: int = 0
    changed: anyio.Event = field(default_factory=anyio.Event)


class Pacer:
    """Counts go-aheads by key; a stream waits for its next one.

    A key is used from one event loop only (a stream and its go-aheads arrive
    through one server); the lock guards the registry between the loops of
    several servers sharing the app.
    """

    def __init__(self, capacity: int = 1024) -> None:
        self.capacity = capacity
        self._paces: OrderedDict[str, _Pace] = OrderedDict()
        self._lock = threading.Lock()

    def _entry(self, key: str) -> _Pace:
        with self._lock:
            entry = self._paces.get(key)
            if entry is None:
                entry = self._paces[key] = _Pace()
                while len(self._paces) > self.capacity:
                    self._paces.popitem(last=False)
            return entry

    def go(self, key: str) -> None:
        """Record one go-ahead for *key*."""
        entry = self._entry(key)
        entry.allowed += 1
        entry.changed.set()
        entry.changed = anyio.Event()

    async def wait(self, key: str, index: int) -> None:
        """Return once item *index* of the stream paced by *key* may be produced."""
        entry = self._entry(key)
        while entry.allowed <= index:
            await entry.changed.wait()

    def forget(self, key: str) -> None:
        """Drop *key* (its stream has ended)."""
        with self._lock:
            self._paces.pop(key, None)

    def __len__(self) -> int:
        return len(self._paces)
