"""FastAPI: ``fastapi.sse``, streaming path operations and ``FileResponse``, on the kit.

FastAPI streams from its routing layer: a *path operation* that yields, with
``response_class=EventSourceResponse``, is encoded as Server-Sent Events
(``fastapi.sse.format_sse_event``, with FastAPI's keep-alive task), and one
with ``response_class=StreamingResponse`` streams the chunks it yields. So the
peer is a FastAPI app whose path operations stream the kit's producers, and
the factories are the kit's :func:`~spec.kit.routed` to them (the handler
finds the kit's request with :func:`~spec.kit.request_of`):

* SSE: each kit event becomes ``ServerSentEvent(raw_data=..., event=, id=,
  retry=, comment=)`` (``raw_data`` sends the string as it is; ``data`` would
  JSON-encode it). FastAPI checks an event when the model is built, so a
  dependency builds the events the suite listed (``SSERequest.listed``) before
  the response starts: one FastAPI's model refuses (a type or id with a line
  break, an id with NUL) is answered 400, as FastAPI answers an
  ``HTTPException`` from a dependency. The same dependency puts the suite's
  headers on FastAPI's ``Response`` parameter, which FastAPI copies onto the
  streaming response.
* Plain streams: a generator path operation with
  ``response_class=StreamingResponse``; FastAPI adds a checkpoint after each
  chunk of an async generator. The media type and the suite's headers go the
  same way as the SSE headers.
* Either kind of producer is streamed by a path operation of the same kind:
  an ``async def`` one for an async producer, a plain ``def`` one for a sync
  producer, which FastAPI iterates in its thread pool.
* In an app the path operation's generator is the producer; here it closes
  the kit's producer when it is itself closed (:func:`aclose`), so the
  producer's cleanup runs exactly when FastAPI closes or cancels the generator.
* NDJSON: FastAPI's own JSON Lines (since 0.134): a generator path operation
  with no ``response_class`` streams each item it yields as one JSON text and
  LF, ``application/jsonl``; the kit's records are yielded as they come.
* Downloads: the ``starlette_streaming`` peer's factory, since
  ``fastapi.responses.FileResponse`` and ``fastapi.staticfiles.StaticFiles``
  are Starlette's own classes re-exported (FastAPI's documentation serves a
  directory with ``StaticFiles`` and names a single file with ``FileResponse``).

* Chat (chapter "AI token streams"): a path operation that yields
  ``ServerSentEvent(raw_data=...)`` for each of the convention's events
  (:func:`spec.kit.chat.chat_events`: the chunks' JSON, ``[DONE]``, the
  error event), as an app relaying a model's tokens writes it; FastAPI's
  keep-alive is its fixed 15 s one, whatever the suite asks.

Keep-alive: FastAPI sends ``: ping`` after 15 s without an event, a fixed
interval (``fastapi.sse._PING_INTERVAL``, private) that its API does not let a
response choose or turn off, so the SSE factory declares ``keepalive=False``
(the kit then declares no ``idle`` streams). FastAPI has no send timeout:
``send_timeout`` is not used.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.responses import StreamingResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import ValidationError

from peers.starlette_streaming import download
from spec.kit import (
    SSE,
    Download,
    Kit,
    SSERequest,
    Stream,
    StreamRequest,
    request_of,
    routed,
)
from spec.kit.api import REQUEST_KEY
from spec.kit.chat import ChatRequest, chat_events
from spec.kit.records import NDJSONRequest
from spec.sse import Event
from spec.targets.asgi_types import ASGIApp

streams = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
"""The path operations that stream the kit's producers (reached only through :func:`routed`)."""

METHODS = ["GET", "HEAD", "POST"]  # the surface's: HEAD of a stream, POST for echoed bytes


def library_event(event: Event) -> ServerSentEvent:
    return ServerSentEvent(
        raw_data=event.data,
        event=event.event,
        id=event.id,
        retry=event.retry,
        comment=event.comment,
    )


async def aclose(producer: AsyncIterator[Any]) -> None:
    """Close the kit's *producer* when FastAPI closes the path operation's generator.

    In an app the path operation's generator is the producer, so its cleanup is
    the producer's: the kit's producer is closed exactly when FastAPI closes (or
    cancels) the generator it was given, and only then.
    """
    closing = getattr(producer, "aclose", None)
    if closing is not None:
        await closing()


def close(producer: Iterator[Any]) -> None:
    """:func:`aclose` for a sync producer."""
    closing = getattr(producer, "close", None)
    if closing is not None:
        closing()


def sse_request(request: Request, response: Response) -> SSERequest:
    asked = request_of(request.scope)
    assert isinstance(asked, SSERequest)
    try:
        for event in asked.listed or ():
            library_event(event)
    except ValidationError as error:
        raise HTTPException(400, f"refused: {error}") from None
    response.headers.update(asked.headers)
    return asked


def stream_request(request: Request, response: Response) -> StreamRequest:
    asked = request_of(request.scope)
    assert isinstance(asked, StreamRequest)
    response.headers.update({"Content-Type": asked.media_type, **asked.headers})
    return asked


@streams.api_route("/sse", methods=METHODS, response_class=EventSourceResponse)
async def sse(
    asked: Annotated[SSERequest, Depends(sse_request)],
) -> AsyncIterator[ServerSentEvent]:
    events = asked.events
    assert isinstance(events, AsyncIterator)
    try:
        async for event in events:
            yield library_event(event)
    finally:
        await aclose(events)


@streams.api_route("/sse-sync", methods=METHODS, response_class=EventSourceResponse)
def sse_sync(asked: Annotated[SSERequest, Depends(sse_request)]) -> Iterator[ServerSentEvent]:
    events = asked.events
    assert isinstance(events, Iterator)
    try:
        for event in events:
            yield library_event(event)
    finally:
        close(events)


@streams.api_route("/stream", methods=METHODS, response_class=StreamingResponse)
async def stream(asked: Annotated[StreamRequest, Depends(stream_request)]) -> AsyncIterator[Any]:
    body = asked.body
    assert isinstance(body, AsyncIterator)
    try:
        async for chunk in body:
            yield chunk
    finally:
        await aclose(body)


@streams.api_route("/stream-sync", methods=METHODS, response_class=StreamingResponse)
def stream_sync(asked: Annotated[StreamRequest, Depends(stream_request)]) -> Iterator[Any]:
    body = asked.body
    assert isinstance(body, Iterator)
    try:
        yield from body
    finally:
        close(body)


def ndjson_request(request: Request) -> NDJSONRequest:
    asked = request.scope.get(REQUEST_KEY)
    assert isinstance(asked, NDJSONRequest)
    return asked


@streams.get("/ndjson")
async def ndjson(asked: Annotated[NDJSONRequest, Depends(ndjson_request)]) -> AsyncIterator[Any]:
    records = asked.records
    try:
        async for record in records:
            yield record
    finally:
        await aclose(records)


def chat_request(request: Request) -> ChatRequest:
    asked = request.scope.get(REQUEST_KEY)
    assert isinstance(asked, ChatRequest)
    return asked


@streams.post("/chat", response_class=EventSourceResponse)
async def chat(
    asked: Annotated[ChatRequest, Depends(chat_request)],
) -> AsyncIterator[ServerSentEvent]:
    async with aclosing(chat_events(asked.tokens, asked.style)) as events:
        async for event in events:
            yield library_event(event)


to_sse, to_sse_sync = routed(streams, "/sse"), routed(streams, "/sse-sync")
to_stream, to_stream_sync = routed(streams, "/stream"), routed(streams, "/stream-sync")


def sse_factory(request: SSERequest) -> ASGIApp:
    return (to_sse if isinstance(request.events, AsyncIterator) else to_sse_sync)(request)


def stream_factory(request: StreamRequest) -> ASGIApp:
    return (to_stream if isinstance(request.body, AsyncIterator) else to_stream_sync)(request)


app = Kit(
    sse=SSE(sse_factory, keepalive=False),
    stream=Stream(stream_factory),
    download=Download(download),
    ndjson=routed(streams, "/ndjson"),
    chat=routed(streams, "/chat"),
)
