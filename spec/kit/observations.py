"""What the conformance surface tells the suite about its producers: started, produced, cleaned up.

One :class:`Observations` belongs to one app. Records are kept for the last
``capacity`` stream ids only, so a client that opens streams forever cannot
grow it without bound. Cleanup is a :class:`threading.Event` because a sync
producer's ``finally`` runs in a worker thread.

Moved from the reference app (``impl/observations.py``). Written by hand: the
observation records are streamspec's own protocol (``GET /conformance/observe``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Record:
    """The facts about one stream's producer."""

    produced: int = 0
    started: threading.Event = field(default_factory=threading.Event)
    cleanup: threading.Event = field(default_factory=threading.Event)

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
