"""aiohttp's ``StreamResponse`` and ``FileResponse``, aiohttp-sse's ``sse_response``, on the kit.

aiohttp is its own server, so this peer is a command target::

    python -m peers.aiohttp_sse --port 8080

The kit serves the surface through its aiohttp bridge (:mod:`spec.kit.aiohttp_kit`);
this peer is three aiohttp handlers, written as aiohttp's and aiohttp-sse's
documentation and examples show:

* plain streams (text, log lines, echoed bytes, the CANCEL chapter's endless
  lines) are a ``web.StreamResponse``: ``prepare``, one ``write`` a chunk,
  ``write_eof``. aiohttp has no API that iterates a producer, so the loop is
  the app's own: an async producer is iterated on the loop, a sync one one
  item at a time in the loop's default executor (``run_in_executor``, as
  aiohttp's docs say of blocking calls), each closed when the handler ends
  (``contextlib.aclosing``). aiohttp has no send timeout for it:
  ``send_timeout`` is not used.
* SSE is aiohttp-sse's ``sse_response`` and ``send``; ``ping_interval`` is the
  suite's keep-alive (the library cannot turn its ping off: ``keepalive=0``
  asks for one every 10^9 s), ``send_timeout`` the suite's (else the
  library's 120 s). As in aiohttp-sse's ``graceful_shutdown`` example, the
  events are sent by a task of their own while the handler waits on
  ``response.wait()``, which returns when the library's ping finds the client
  gone or the app's ``on_shutdown`` calls ``stop_streaming``. aiohttp-sse
  checks an event's id and type when it is sent, after the response has
  started: an event it refuses ends the stream there (nothing of it is
  written). It has no way to send a comment: the peer declares
  ``comments: false`` (the suite then sends none) and answers 400 to an event
  with a comment, before the stream starts.
* chat: ``sse_response`` and one ``send`` a convention event
  (:func:`spec.kit.chat.chat_events`), ``ping_interval`` the suite's keep-alive,
  ``allow_all_methods=True`` (aiohttp-sse answers 405 to a POST without it).
* a download is a ``web.FileResponse`` (its ``Content-Length``, ``ETag``,
  ``Last-Modified``, ranges, ``If-Range`` and conditionals are aiohttp's),
  the name resolved below the root by aiohttp's own static route code
  (``StaticResource``, as ``app.router.add_static`` serves files, symlinks
  not followed out of the root). ``FileResponse`` writes no
  ``Content-Disposition``; the peer writes it with aiohttp's only writer of
  one, ``aiohttp.helpers.content_disposition_header`` (the one its multipart
  payloads use).

The server runs with ``run_app(handler_cancellation=True)``: aiohttp's docs
("Peer disconnection") recommend it for an asyncio app; with aiohttp's
default, a handler learns that its client left only when it next writes, so a
producer waiting for its next item is never stopped
(``--no-handler-cancellation`` runs that default).
"""

from __future__ import annotations

import argparse
import asyncio
import threading
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import aclosing
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.helpers import content_disposition_header
from aiohttp_sse import EventSourceResponse, sse_response

from spec.kit import SSE, Download, DownloadRequest, SSERequest, Stream, StreamRequest
from spec.kit.aiohttp_kit import application, handled
from spec.kit.chat import ChatRequest, chat_events
from spec.sse import Event

T = TypeVar("T")

NO_PING = 10.0**9
"""aiohttp-sse's ping interval must be positive: ``keepalive=0`` (none) asks for this."""

STREAMS: web.AppKey[weakref.WeakSet[EventSourceResponse]] = web.AppKey("sse_streams")
_END = object()


async def items(producer: AsyncIterator[T] | Iterator[T]) -> AsyncGenerator[T, None]:
    """The producer's items on the loop, a sync producer's each made in the default executor;
    closing this closes the producer (a sync one in the executor, once its item is made)."""
    if isinstance(producer, AsyncIterator):
        try:
            async for item in producer:
                yield item
        finally:
            aclose = getattr(producer, "aclose", None)
            if aclose is not None:
                await aclose()
        return
    lock = threading.Lock()

    def step() -> Any:
        with lock:
            return next(producer, _END)

    def close() -> None:
        with lock:
            getattr(producer, "close", lambda: None)()

    loop = asyncio.get_running_loop()
    try:
        while (item := await loop.run_in_executor(None, step)) is not _END:
            yield item
    finally:
        await loop.run_in_executor(None, close)


async def stream(request: StreamRequest, web_request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": request.media_type, **request.headers})
    await response.prepare(web_request)
    body: AsyncIterator[str | bytes] | Iterator[str | bytes] = request.body
    async with aclosing(items(body)) as chunks:
        async for chunk in chunks:
            await response.write(chunk.encode() if isinstance(chunk, str) else chunk)
    await response.write_eof()
    return response


async def send_all(response: EventSourceResponse, events: AsyncIterator[Event]) -> None:
    async for event in events:
        try:
            await response.send(event.data, id=event.id, event=event.event, retry=event.retry)
        except ValueError:  # an id or type aiohttp-sse refuses: the stream ends there
            return


async def sse(request: SSERequest, web_request: web.Request) -> web.StreamResponse:
    if any(event.comment is not None for event in request.listed or ()):
        return web.Response(status=400, text="refused: aiohttp-sse cannot send comments\n")
    timeout = request.send_timeout or EventSourceResponse.DEFAULT_SEND_TIMEOUT
    ping = (
        EventSourceResponse.DEFAULT_PING_INTERVAL
        if request.keepalive is None
        else request.keepalive
    )
    options: dict[str, Any] = {"send_timeout": timeout, "ping_interval": ping or NO_PING}
    response: EventSourceResponse
    async with sse_response(web_request, headers=request.headers, **options) as response:
        web_request.app[STREAMS].add(response)
        async with aclosing(items(request.events)) as events:
            sending = asyncio.ensure_future(send_all(response, events))
            waiting = asyncio.ensure_future(response.wait())
            try:
                await asyncio.wait((sending, waiting), return_when=asyncio.FIRST_COMPLETED)
            finally:
                waiting.cancel()
                sending.cancel()
                await asyncio.wait((sending,))
            if not sending.cancelled() and (failed := sending.exception()) is not None:
                raise failed  # a send that failed: the client gone, or a send timeout
    return response


async def chat(request: ChatRequest, web_request: web.Request) -> web.StreamResponse:
    ping = (
        EventSourceResponse.DEFAULT_PING_INTERVAL
        if request.keepalive is None
        else request.keepalive
    )
    response: EventSourceResponse
    options: dict[str, Any] = {"ping_interval": ping or NO_PING, "allow_all_methods": True}
    async with (
        sse_response(web_request, **options) as response,
        aclosing(chat_events(request.tokens, request.style)) as events,
    ):
        async for event in events:
            await response.send(event.data, event=event.event)
    return response


def lookup(root: Path, name: str) -> web.StreamResponse:
    """*name* below *root* as ``app.router.add_static("/", root)`` answers it: a
    ``FileResponse``, or ``HTTPNotFound``/``HTTPForbidden`` raised (blocking: an executor's)."""
    static = web.StaticResource("/", str(root))
    answer: web.StreamResponse = static._resolve_path_to_response(root.joinpath(name))
    return answer


async def download(request: DownloadRequest, web_request: web.Request) -> web.StreamResponse:
    if Path(request.name).is_absolute():
        raise web.HTTPNotFound()
    loop = asyncio.get_running_loop()
    found = await loop.run_in_executor(None, lookup, request.root, request.name)
    filename = request.filename or Path(request.name).name
    found.headers["Content-Disposition"] = content_disposition_header(
        "attachment", filename=filename
    )
    return found


async def stop_streams(app: web.Application) -> None:
    """aiohttp-sse's graceful shutdown: stop every stream and wait for it to end."""
    held: weakref.WeakSet[EventSourceResponse] = app[STREAMS]
    streams = list(held)
    for response in streams:
        response.stop_streaming()
    await asyncio.gather(*(response.wait() for response in streams), return_exceptions=True)


def build_app() -> web.Application:
    app = application(
        sse=SSE(handled(sse), comments=False),
        stream=Stream(handled(stream)),
        download=Download(handled(download)),
        chat=handled(chat),
    )
    app[STREAMS] = weakref.WeakSet[EventSourceResponse]()
    app.on_shutdown.append(stop_streams)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--no-handler-cancellation",
        action="store_true",
        help="aiohttp's default: a handler learns that its client left only when it writes",
    )
    options = parser.parse_args()
    web.run_app(
        build_app(),
        host=options.host,
        port=options.port,
        print=None,
        handler_cancellation=not options.no_handler_cancellation,
    )


if __name__ == "__main__":
    main()
