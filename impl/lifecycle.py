"""Tell streams that the server is shutting down, per app and never process-wide.

uvicorn, on SIGTERM or SIGINT, stops accepting connections and then waits for
the open ones to finish; it tells the app nothing until every response has
ended (the lifespan shutdown comes last). An endless stream never ends, so the
server never exits (unless run with ``--timeout-graceful-shutdown``, which
cancels the streams without a word to their clients).

:class:`ShutdownNotice` closes that gap for one app: at lifespan startup it
puts a handler for SIGTERM and SIGINT in front of the one the server installed
(uvicorn's ``handle_exit``) and calls it in turn; the handler sets an event
that every stream of this app watches. Streams then send a last event and end,
and the server exits as it meant to. The notice belongs to the app instance
and is renewed at every lifespan startup, so a second server started later in
the same process starts with a fresh, unset notice (the process-wide flag of
sse-starlette carries the first server's shutdown into the second).

Signals can only be handled in the main thread; an app served from another
thread (the suite's in-process server) gets no notice, and its streams end
when their clients leave.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import FrameType
from typing import Any

import anyio

_SIGNALS = (signal.SIGTERM, signal.SIGINT)
Handler = Callable[[int, FrameType | None], Any] | int | None


class ShutdownNotice:
    """Set when the server serving this app is asked to shut down; streams wait on it.

    Each waiter gets an event of its own, made in its own event loop, so one
    app can serve streams from several loops (as the suite does); ``trigger``
    must be called from the loop that serves the streams it ends.
    """

    def __init__(self) -> None:
        self.triggered = False
        self._waiters: set[anyio.Event] = set()
        self._callbacks: dict[int, tuple[asyncio.AbstractEventLoop | None, Callable[[], None]]] = {}
        self._previous: dict[int, Handler] = {}

    def trigger(self) -> None:
        """Set the notice: every stream waiting on it ends."""
        self.triggered = True
        for waiter in list(self._waiters):
            waiter.set()
        here = _running_loop()
        for loop, callback in list(self._callbacks.values()):
            if loop is None or loop is here:
                callback()
            else:
                loop.call_soon_threadsafe(callback)

    def subscribe(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call *callback* when the notice is set, at once if it is set already; returns the
        function that cancels the subscription.

        The callback runs in the event loop that subscribed (a notice triggered from
        another loop's thread hands it over with ``call_soon_threadsafe``), as each
        waiter of :meth:`wait` has an event made in its own loop.

        What a stream uses instead of a task waiting in :meth:`wait`: an idle stream
        costs one task fewer (``python -m bench run`` measures the memory of idle streams).
        """
        key = id(callback)
        self._callbacks[key] = (_running_loop(), callback)
        if self.triggered:
            callback()

        def unsubscribe() -> None:
            self._callbacks.pop(key, None)

        return unsubscribe

    async def wait(self) -> None:
        """Return once the notice is set."""
        if self.triggered:
            return
        waiter = anyio.Event()
        self._waiters.add(waiter)
        try:
            await waiter.wait()
        finally:
            self._waiters.discard(waiter)

    @asynccontextmanager
    async def watching_signals(self) -> AsyncIterator[None]:
        """While the block runs (the app's lifespan), SIGTERM and SIGINT also set the notice.

        asyncio is named directly: the handler runs between two bytecodes of the
        loop's thread, where only ``call_soon_threadsafe`` may touch the loop.
        """
        self.triggered = False
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        loop = asyncio.get_running_loop()

        def handler(signum: int, frame: FrameType | None) -> None:
            loop.call_soon_threadsafe(self.trigger)
            previous = self._previous.get(signum)
            if callable(previous):
                previous(signum, frame)

        for signum in _SIGNALS:
            self._previous[signum] = signal.signal(signum, handler)
        try:
            yield
        finally:
            for number, previous in self._previous.items():
                if signal.getsignal(number) is handler:
                    signal.signal(number, previous)
            self._previous.clear()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    """The asyncio loop running in this thread, if any (none under trio)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
