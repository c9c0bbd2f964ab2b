"""sse-starlette: ``EventSourceResponse`` over ``ServerSentEvent`` items, on the kit.

The kit (:mod:`spec.kit`) serves the surface; this peer is one factory, the
SSE one, written as sse-starlette's documentation shows:

* every event is the library's ``ServerSentEvent`` (its ``encode`` writes it);
* ``ping=`` is the suite's keep-alive interval (``None``: the library's 15 s;
  ``0`` disables the ping task), ``send_timeout=`` its send timeout, and the
  suite's extra headers are passed as ``headers=``;
* shutdown is the library's *cooperative shutdown*: a ``shutdown_event`` the
  library sets when it notices the server's SIGTERM, and a grace period in
  which the generator sends a farewell event and ends, so the body completes
  (without it, the library cancels the generator and the body is cut off).
  The generator waits for its next event in a cancel scope that the library's
  ``shutdown_event`` cancels, so a held stream ends at once, and the producer's
  own cleanup runs; a sync producer is handed to the library as it is (it runs
  it in Starlette's thread pool) and ends on shutdown by cancellation.

The chat factory (chapter "AI token streams") is written as an app streaming a
model's tokens with sse-starlette would write it: each token a
``ServerSentEvent`` whose data is the convention's JSON chunk (or typed
event), then ``[DONE]`` (or ``response.completed``); a model that fails after
the response started is told with the convention's error event, and the stream
ends (the events: :func:`spec.kit.chat.chat_events`); ``ping=`` is the
suite's keep-alive interval, and the library's disconnect handling stops the
model.

sse-starlette has no plain-stream or file API of its own (a Starlette app
streams text with Starlette's ``StreamingResponse``: the ``starlette`` peer),
so the peer serves SSE only; the kit then serves the endless producers of the
CANCEL chapter through it, one event a line.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing

import anyio
from sse_starlette import EventSourceResponse, ServerSentEvent

from spec.kit import SSE, Kit, SSERequest
from spec.kit.chat import ChatRequest, chat_events
from spec.sse import Event

#: Seconds the library waits, after setting the shutdown event, for the generator
#: to end before it cancels it (its README's example: 5).
GRACE_PERIOD = 5.0

FAREWELL = ServerSentEvent("server shutting down", event="shutdown")


def library_event(event: Event) -> ServerSentEvent:
    return ServerSentEvent(
        event.data, event=event.event, id=event.id, retry=event.retry, comment=event.comment
    )


async def until_shutdown(
    events: AsyncIterator[Event], shutdown: anyio.Event
) -> AsyncIterator[ServerSentEvent]:
    """The events as the library's, then, once *shutdown* is set, a farewell event."""
    waiting: anyio.CancelScope | None = None

    async def interrupt_on_shutdown() -> None:
        await shutdown.wait()
        if waiting is not None:
            waiting.cancel()

    watcher = asyncio.get_running_loop().create_task(interrupt_on_shutdown())
    try:
        while not shutdown.is_set():
            with anyio.CancelScope() as waiting:
                try:
                    event = await anext(events)
                except StopAsyncIteration:
                    return
            waiting = None
            if shutdown.is_set():
                break
            yield library_event(event)
        yield FAREWELL
    finally:
        watcher.cancel()
        # Closing this generator closes the producer, as the library would have closed it.
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()


def stream(request: SSERequest) -> EventSourceResponse:
    shutdown = anyio.Event()
    content: AsyncIterator[ServerSentEvent] | Iterator[ServerSentEvent]
    if isinstance(request.events, AsyncIterator):
        content = until_shutdown(request.events, shutdown)
    else:
        content = map(library_event, request.events)
    return EventSourceResponse(
        content,
        headers=dict(request.headers),
        ping=request.keepalive,
        send_timeout=request.send_timeout,
        shutdown_event=shutdown,
        shutdown_grace_period=GRACE_PERIOD,
    )


async def chat_messages(request: ChatRequest) -> AsyncIterator[ServerSentEvent]:
    async with aclosing(chat_events(request.tokens, request.style)) as events:
        async for event in events:
            yield library_event(event)


def chat(request: ChatRequest) -> EventSourceResponse:
    return EventSourceResponse(chat_messages(request), ping=request.keepalive)


app = Kit(sse=SSE(stream), chat=chat)
