"""A streaming response that stops the moment its client leaves, and cleans up after itself.

Starlette's ``StreamingResponse`` learns of a disconnect from a listener task
waiting on ``receive()``. That task only runs when the response task yields to
the event loop, and with uvicorn it may never: uvicorn's ``send`` returns
without suspending while the socket takes the bytes (and silently after the
client has gone), so a producer that never awaits keeps producing, and the
whole server answers no one, until a socket buffer fills. Polling
``request.is_disconnected()`` before each item notices at once but costs a
round trip through ``receive`` per item. This module does neither:

* one watcher task waits on ``receive()`` for ``http.disconnect`` (no polling);
* after every :data:`CHECKPOINT_EVERY` items (16) the stream passes one
  checkpoint (a bare yield to the loop), so the watcher runs even when neither
  the producer nor ``send`` ever suspends. The producer is asked for at most
  16 more items after the server has reported the disconnect, the bound of
  ``CANCEL-PROMPT-01``.

The checkpoint is what the stream's speed turns on, more than any work of its
own: under uvloop a write is queued and written out when the loop next turns,
so every turn of the loop is a ``write`` system call, and a checkpoint per item
is a system call per item. That is why the bound is 16 and not 2: a checkpoint every 2
items made half of Starlette's events per second, one every 16 nearly all of it (``python -m
bench run`` measures ``checkpoint_every`` 1, 2, 16 and 64 beside the peers). On asyncio the
checkpoint is ``asyncio.sleep(0)``, called directly: ``anyio.lowlevel.checkpoint``
is the same yield after a look-up of the running backend, per call.

The contract of :class:`StreamResponse`:

* each item the producer yields leaves as its own ``http.response.body``
  message (``more_body`` true), and the producer is asked for item k+1 only
  after ``send`` returned for item k; a finished producer gives one final,
  empty message;
* a sync iterable is iterated in a worker thread, one ``next()`` at a time, and
  closed in a worker thread, so its ``finally`` blocks run too;
* whatever ends the stream (the end of the producer, a disconnect, a send
  timeout, server shutdown, cancellation, an error), the producer is closed,
  running its ``finally`` blocks and ``async with`` exits, inside a shielded
  scope bounded by ``cleanup_timeout``;
* ``encode``: applied to each item before it is sent (the SSE response passes
  its events and their encoder: one generator fewer per item than
  :func:`transformed`);
* ``send_timeout``: a send the client does not take within that many seconds
  (noticed within twice that; the final, empty message is a send too) ends the
  stream, as for a client that stopped reading: cleanup runs, then
  :class:`SlowClient` is raised, leaving the body unfinished, so that the
  connection is aborted (:mod:`impl.abort` resets it under uvicorn). It is
  decided by events, not by a clock read after a stall of the server's own:
  the same send must still be waiting at two wake-ups of the watchdog, one
  interval apart, after the event loop had a turn to finish it (a loop
  starved on a busy machine is not a slow client);
* an exception from the producer is re-raised after cleanup, so the server
  aborts the connection (no final chunk: the client can tell the body is
  incomplete) and logs it, once;
* ``keepalive``: bytes sent when nothing else was sent for ``interval``
  seconds; ``None`` means no keep-alive task at all;
* ``shutdown``: when that signal's ``wait()`` returns, the stream stops asking the producer,
  sends ``farewell`` (if any) and ends cleanly, so the server can exit; a client
  that does not take the farewell within ``cleanup_timeout`` (a stalled reader)
  gets no more: the body is left unfinished and the connection is aborted;
* ``HEAD``: the headers only; the producer is closed without being started.

Written by hand because no maintained library has these properties: Starlette's
response is the one this module replaces, and sse-starlette keeps shutdown in
process-wide state (a second server in the same process inherits the first
one's shutdown).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
)
from functools import partial
from typing import Any, Protocol, TypeVar, runtime_checkable

import anyio
import anyio.lowlevel
from starlette.background import BackgroundTask
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

Chunk = bytes | str
Content = AsyncIterable[Chunk] | Iterable[Chunk]


class ShutdownSignal(Protocol):
    """Anything a stream can wait on to learn that the server is shutting down."""

    async def wait(self) -> None: ...


@runtime_checkable
class ShutdownSubscription(Protocol):
    """A shutdown signal that can also call back (:class:`impl.lifecycle.ShutdownNotice`):
    a stream then needs no task of its own waiting for it."""

    def subscribe(self, callback: Callable[[], None]) -> Callable[[], None]: ...


class SlowClient(Exception):
    """The client did not take a chunk within the send timeout; the connection is to be aborted."""


class KeepAlive:
    """Send *payload* after *interval* seconds without any other send."""

    def __init__(self, interval: float, payload: bytes) -> None:
        if not interval > 0 or math.isinf(interval):
            raise ValueError(f"keep-alive interval must be a positive number, not {interval!r}")
        self.interval = interval
        self.payload = payload


T = TypeVar("T")

#: Items between two checkpoints of a stream (``StreamResponse(checkpoint_every=)``): the
#: most items a producer that never awaits is asked for after a disconnect (``CANCEL-PROMPT-01``).
CHECKPOINT_EVERY = 16


def transformed(items: AsyncIterable[T] | Iterable[T], function: Callable[[T], Chunk]) -> Content:
    """*items* passed through *function*, async or sync as *items* is.

    Closing the result closes *items* too, at once: a producer wrapped this
    way still has its cleanup run when the stream ends early, not at garbage
    collection.
    """
    if isinstance(items, AsyncIterable):
        return _transformed_async(items, function)
    return _transformed_sync(items, function)


async def _transformed_async(
    items: AsyncIterable[T], function: Callable[[T], Chunk]
) -> AsyncIterator[Chunk]:
    iterator = aiter(items)
    try:
        async for item in iterator:
            yield function(item)
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()


def _transformed_sync(items: Iterable[T], function: Callable[[T], Chunk]) -> Iterator[Chunk]:
    iterator = iter(items)
    try:
        for item in iterator:
            yield function(item)
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


class _Producer:
    """One interface over async and sync iterables: ``next_item`` and ``aclose``."""

    def __init__(self, content: Content) -> None:
        self._async: AsyncIterator[Chunk] | None = None
        self._sync: Iterator[Chunk] | None = None
        #: An async producer's ``__anext__`` (``None`` for a sync one), for a caller that
        #: catches ``StopAsyncIteration`` itself.
        self.anext: Callable[[], Awaitable[Chunk]] | None = None
        if isinstance(content, AsyncIterable):
            self._async = aiter(content)
            self.anext = self._async.__anext__
        else:
            self._sync = iter(content)

    async def next_item(self) -> Chunk | None:
        """The next item, or ``None`` when the producer is exhausted."""
        if self._async is not None:
            try:
                return await anext(self._async)
            except StopAsyncIteration:
                return None
        assert self._sync is not None
        return await anyio.to_thread.run_sync(next, self._sync, None)

    async def aclose(self) -> None:
        """Close the producer: its ``finally`` blocks and ``with`` exits run now."""
        if self._async is not None:
            aclose = getattr(self._async, "aclose", None)
            if aclose is not None:
                await aclose()
        elif self._sync is not None:
            close = getattr(self._sync, "close", None)
            if close is not None:
                await anyio.to_thread.run_sync(close)


class StreamResponse(Response):
    """A streamed response with the contract of this module's docstring."""

    def __init__(
        self,
        content: Content,
        *,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        send_timeout: float | None = None,
        keepalive: KeepAlive | None = None,
        shutdown: ShutdownSignal | None = None,
        farewell: bytes | None = None,
        cleanup_timeout: float = 5.0,
        background: BackgroundTask | None = None,
        encode: Callable[[Any], Chunk] | None = None,
        checkpoint_every: int = CHECKPOINT_EVERY,
    ) -> None:
        if checkpoint_every < 1:
            raise ValueError(f"checkpoint_every must be at least 1, not {checkpoint_every}")
        self.content = content
        self.encode = encode
        self.checkpoint_every = checkpoint_every
        self.status_code = status_code
        self.media_type = self.media_type if media_type is None else media_type
        self.background = background
        self.send_timeout = send_timeout
        self.keepalive = keepalive
        self.shutdown = shutdown
        self.farewell = farewell
        self.cleanup_timeout = cleanup_timeout
        self.init_headers(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        producer = _Producer(self.content)
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": self.status_code,
                    "headers": self.raw_headers,
                }
            )
            if scope.get("method") == "HEAD":
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            else:
                await _Stream(self, producer, receive, send).run()
        finally:
            with anyio.CancelScope(shield=True), anyio.move_on_after(self.cleanup_timeout):
                await producer.aclose()
        if self.background is not None:
            await self.background()


class _Stream:
    """The state of one response while it streams.

    The per-item path is kept short (it runs once per event for the fastest
    producers): the send timeout is a watchdog, not a cancel scope per send;
    no lock: a keep-alive is sent only while no other send is under way, and a
    send waits only while a keep-alive is under way; the clock is read per send
    only when there are keep-alives.

    An idle stream is kept small (thousands may wait at once): besides the
    response's own task, one task waits for the disconnect and one timer task
    is both the send-timeout watchdog and the keep-alive's clock (a keep-alive
    is sent by a task that lives for that send only, so the watchdog judges it
    like any send); a shutdown signal that can call back
    (:class:`ShutdownSubscription`) takes no task.
    """

    def __init__(
        self, response: StreamResponse, producer: _Producer, receive: Receive, send: Send
    ) -> None:
        self.response = response
        self.producer = producer
        self.receive = receive
        self.send = send
        self.charset = response.charset
        self.clocked = response.keepalive is not None
        self.last_sent = time.monotonic()
        self.sending = False
        self.keepalive_sent: anyio.Event | None = None
        self.sends_started = 0
        self.finished = False
        self.disconnected = False
        self.shutting_down = False
        self.timed_out = False
        self.error: Exception | None = None

    async def run(self) -> None:
        unsubscribe: Callable[[], None] | None = None
        try:
            async with anyio.create_task_group() as group:
                scope = group.cancel_scope
                group.start_soon(self._watch_disconnect, scope)
                shutdown = self.response.shutdown
                subscription: object = shutdown
                if isinstance(subscription, ShutdownSubscription):
                    unsubscribe = subscription.subscribe(partial(self._on_shutdown, scope))
                elif shutdown is not None:
                    group.start_soon(self._watch_shutdown, shutdown, scope)
                keepalive, limit = self.response.keepalive, self.response.send_timeout
                if keepalive is not None or limit is not None:
                    group.start_soon(self._watch_time, keepalive, limit, group)
                try:
                    await self._pump()
                except Exception as error:  # re-raised below, unwrapped, after the tasks stop
                    self.error = error
                scope.cancel()
        finally:
            if unsubscribe is not None:
                unsubscribe()
        if self.error is not None:
            raise self.error
        if self.timed_out:
            raise SlowClient(f"a chunk was not taken within {self.response.send_timeout}s")
        if self.disconnected:
            return
        if self.shutting_down and not self.finished:
            # Bounded: a reader that has stopped reading cannot take the farewell, and the
            # response then ends unfinished (the app's caller resets the connection).
            with anyio.CancelScope(shield=True), anyio.move_on_after(self.response.cleanup_timeout):
                if self.response.farewell is not None:
                    await self.send(_body(self.response.farewell))
                await self.send(_final())

    async def _pump(self) -> None:
        checkpoint = _checkpoint()
        # Once before the head: the watcher takes the request's message and waits in
        # receive(), so that from the first item on a disconnect is seen at the next checkpoint.
        await checkpoint()
        # ASGI lets a server hold the head until the first body message (granian does;
        # uvicorn sends it at http.response.start): an empty one, under the send timeout
        # like any other, sends the headers before the producer's first item on any server.
        await self._send_chunk(b"")
        next_item = self.producer.next_item
        anext_async = self.producer.anext  # None for a sync producer
        encode = self.response.encode
        every = self.response.checkpoint_every
        send, charset, clocked = self.send, self.charset, self.clocked
        since_checkpoint = 0
        while True:
            if anext_async is not None:
                try:
                    item: Chunk | None = await anext_async()
                except StopAsyncIteration:
                    item = None
            else:
                item = await next_item()
            if item is None:
                # The final message is a send like any other: the send timeout covers it.
                await self._send_message(_final())
                self.finished = True
                return
            if encode is not None:
                item = encode(item)
            chunk = item.encode(charset) if isinstance(item, str) else item
            # _send_message written out: these are the stream's hottest lines. An error from
            # send() ends the stream (and its watchdog), so `sending` needs no finally here.
            while self.keepalive_sent is not None:
                await self.keepalive_sent.wait()
            self.sends_started += 1
            self.sending = True
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            self.sending = False
            if clocked:
                self.last_sent = time.monotonic()
            since_checkpoint += 1
            if since_checkpoint == every:
                # Let the disconnect watcher run even if neither the producer nor send() suspends.
                since_checkpoint = 0
                await checkpoint()

    async def _send_chunk(self, chunk: bytes) -> None:
        await self._send_message(_body(chunk))

    async def _send_message(self, message: Message) -> None:
        while self.keepalive_sent is not None:
            await self.keepalive_sent.wait()
        await self._sent(message)

    async def _sent(self, message: Message) -> None:
        """Send *message*: no other send may be under way."""
        self.sends_started += 1
        self.sending = True
        try:
            await self.send(message)
        finally:
            self.sending = False
        if self.clocked:
            self.last_sent = time.monotonic()

    async def _watch_disconnect(self, scope: anyio.CancelScope) -> None:
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                self.disconnected = True
                scope.cancel()
                return

    async def _watch_shutdown(self, signal: ShutdownSignal, scope: anyio.CancelScope) -> None:
        await signal.wait()
        self._on_shutdown(scope)

    def _on_shutdown(self, scope: anyio.CancelScope) -> None:
        self.shutting_down = True
        scope.cancel()

    async def _watch_time(
        self, keepalive: KeepAlive | None, limit: float | None, group: anyio.abc.TaskGroup
    ) -> None:
        """The send-timeout watchdog and the keep-alive's clock, in one task.

        Watchdog (*limit*): the stream ends when one send has waited a whole
        *limit* (noticed within 2x): the send pending at one wake-up must still
        be the one pending at the next, *limit* later, after a checkpoint that
        lets ready I/O complete it. Keep-alive: once nothing was sent for its
        interval, and no send is under way, a task is started that sends it.
        """
        next_watch = time.monotonic() + limit if limit is not None else math.inf
        pending_before: int | None = None
        while True:
            due = self.last_sent + keepalive.interval if keepalive is not None else math.inf
            await anyio.sleep(max(min(next_watch, due) - time.monotonic(), 0))
            if limit is not None and time.monotonic() >= next_watch:
                await anyio.lowlevel.checkpoint()
                pending = self.sends_started if self.sending else None
                if pending is not None and pending == pending_before:
                    self.timed_out = True
                    group.cancel_scope.cancel()
                    return
                pending_before = pending
                next_watch = time.monotonic() + limit
            if keepalive is not None and time.monotonic() >= self.last_sent + keepalive.interval:
                if not self.sending and self.keepalive_sent is None:
                    self.keepalive_sent = anyio.Event()
                    group.start_soon(self._keep_alive, keepalive.payload)
                # A send under way is not silence: the next keep-alive is due an interval on.
                self.last_sent = time.monotonic()

    async def _keep_alive(self, payload: bytes) -> None:
        """Send one keep-alive; the stream's own sends wait until it is taken."""
        try:
            await self._sent(_body(payload))
        finally:
            sent, self.keepalive_sent = self.keepalive_sent, None
            if sent is not None:
                sent.set()


def _checkpoint() -> Callable[[], Any]:
    """A yield to the event loop: ``asyncio.sleep(0)`` on asyncio (what anyio's asyncio
    backend awaits, without its look-up of the backend per call), anyio's elsewhere."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return anyio.lowlevel.checkpoint
    return _asyncio_checkpoint


async def _asyncio_checkpoint() -> None:
    await asyncio.sleep(0)


def _body(chunk: bytes) -> Message:
    return {"type": "http.response.body", "body": chunk, "more_body": True}


def _final() -> Message:
    """The final body message, a new dict each time: a middleware may rewrite the one it is
    given (Starlette's GZipMiddleware puts its gzip trailer into the final body)."""
    return {"type": "http.response.body", "body": b"", "more_body": False}
