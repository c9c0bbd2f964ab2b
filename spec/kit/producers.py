"""The producers behind ``GET /conformance/endless``: numbered lines, made three ways.

* ``async``: an async generator that awaits (a checkpoint) between items;
* ``busy``: an async generator that never awaits, the case that starves a server's event
  loop; it still lets other threads run every :data:`GIL_EVERY` items
  (``time.sleep(0)`` releases the GIL without yielding to the loop), as a producer
  whose work runs outside Python does: the suite's client shares the process with a
  server it serves in a thread, and a producer holding the GIL kept that client from
  leaving for up to 0.7 s, long enough for a correct server to make 74,000 items
  before the disconnect existed;
* ``sync``: a plain generator, which the response iterates in a worker thread.

Each records in its :class:`~spec.kit.observations.Record` that it started, how
many items it produced, and, from its ``finally``, that its cleanup ran. On
request a producer blocks on its own I/O after ``hold`` items (async kinds),
or raises after ``fail`` items.

Moved from the reference app (``impl/producers.py``). Written by hand: they are
the suite's instruments, handed to the library's streaming response.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import anyio
import anyio.lowlevel

from spec.kit.observations import Record

KINDS = ("async", "busy", "sync")
GIL_EVERY = 64
"""Items between two releases of the GIL by a busy producer: often enough that a thread
waiting for it (the suite's client) runs within a fraction of a millisecond, seldom enough
that a broken server that never stops such a producer is not slowed (one release per item
made 50,000 items take 5 s instead of 1 under load)."""


class ProducerFailed(RuntimeError):
    """The failure the suite asked for with ``fail=N``."""


@dataclass(frozen=True)
class Plan:
    """What a producer is asked to do.

    Attributes:
        kind: one of :data:`KINDS`.
        limit: stop after this many items (``None``: never).
        hold: block, as on I/O that never completes, after this many items.
        fail: raise :class:`ProducerFailed` after this many items.
        size: pad each item to this many bytes (at least its number and a newline).
    """

    kind: str = "async"
    limit: int | None = None
    hold: int | None = None
    fail: int | None = None
    size: int = 0

    def item(self, number: int) -> bytes:
        line = f"{number}\n".encode()
        return line if len(line) >= self.size else b"." * (self.size - len(line)) + line


async def _async_lines(plan: Plan, record: Record, *, awaits: bool) -> AsyncIterator[bytes]:
    record.started.set()
    try:
        number = 0
        while plan.limit is None or number < plan.limit:
            if plan.hold is not None and number == plan.hold:
                await anyio.sleep_forever()
            if plan.fail is not None and number == plan.fail:
                raise ProducerFailed(f"failed after {number} items, as requested")
            number += 1
            record.produced = number
            yield plan.item(number)
            if awaits:
                await anyio.lowlevel.checkpoint()
            elif number % GIL_EVERY == 0:
                time.sleep(0)  # noqa: ASYNC251 - the GIL for other threads, not a loop turn
    finally:
        record.cleanup.set()


def _sync_lines(plan: Plan, record: Record) -> Iterator[bytes]:
    record.started.set()
    try:
        number = 0
        while plan.limit is None or number < plan.limit:
            if plan.fail is not None and number == plan.fail:
                raise ProducerFailed(f"failed after {number} items, as requested")
            number += 1
            record.produced = number
            yield plan.item(number)
    finally:
        record.cleanup.set()


def produce(plan: Plan, record: Record) -> AsyncIterator[bytes] | Iterator[bytes]:
    """The producer *plan* describes, reporting to *record*."""
    if plan.kind == "sync":
        if plan.hold is not None:
            raise ValueError("hold is for async producers: a blocked thread cannot be cancelled")
        return _sync_lines(plan, record)
    if plan.kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    return _async_lines(plan, record, awaits=plan.kind == "async")
