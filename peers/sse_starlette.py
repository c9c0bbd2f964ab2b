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
``ServerSentEvent`` whose data is the convention's JSON chunk (or typed event),
then ``[DONE]`` (or ``response.completed``); a model that fails after the
response started is told with the convention's error event, and the stream
ends; ``ping=`` is the suite's keep-alive interval, and the library's
disconnect handling stops the model.

sse-starlette has no plain-stream or file API of its own (a Starlette app
streams text with Starlette's ``StreamingResponse``: the ``starlette`` peer),
so the peer serves SSE only; the kit then serves the endless producers of the
CANCEL chapter through it, one event a line.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator

import anyio
from sse_starlette import EventSourceResponse, ServerSentEvent

from spec.kit import SSE, Kit, SSERequest
from spec.kit.chat import ChatRequest
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


DELTA = "response.output_text.delta"


def _openai(content: str | None, finish: str | None = None) -> ServerSentEvent:
    delta = {} if content is None else {"content": content}
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return ServerSentEvent(json.dumps({"object": "chat.completion.chunk", "choices": [choice]}))


def _typed(kind: str, **members: object) -> ServerSentEvent:
    return ServerSentEvent(json.dumps({"type": kind, **members}), event=kind)


async def chat_events(tokens: AsyncIterator[str], style: str) -> AsyncIterator[ServerSentEvent]:
    """The model's tokens as the convention's events, ended by its end marker, or by its
    error event when the model fails."""
    text = ""
    try:
        async for token in tokens:
            text += token
            yield _openai(token) if style == "openai" else _typed(DELTA, delta=token)
    except Exception as error:  # the 200 has been sent: the stream is where the error goes
        message = {"message": f"generation failed: {type(error).__name__}"}
        if style == "openai":
            yield ServerSentEvent(json.dumps({"error": message}))
        else:
            yield _typed("error", error=message)
        return
    finally:
        aclose = getattr(tokens, "aclose", None)
        if aclose is not None:
            await aclose()
    if style == "openai":
        yield _openai(None, finish="stop")
        yield ServerSentEvent("[DONE]")
    else:
        yield _typed("response.completed", response={"status": "completed", "text": text})


def chat(request: ChatRequest) -> EventSourceResponse:
    return EventSourceResponse(chat_events(request.tokens, request.style), ping=request.keepalive)


app = Kit(sse=SSE(stream), chat=chat)
