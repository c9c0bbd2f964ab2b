"""Litestar: ``ServerSentEvent``, ``Stream`` and ``File`` behind the kit.

Litestar's responses are not ASGI applications (a handler returns one, and
Litestar turns it into its ASGI response with the request it routed), so the
peer is a Litestar app whose handlers build the library's responses from the
kit's request (:func:`spec.kit.request_of`), and the kit reaches them with
:func:`spec.kit.routed`. (``Response.to_asgi_response`` would make an ASGI
application of a response, but it needs a ``Request`` that Litestar's routing
made, and it skips Litestar's own handling of the request: the routed app is
what a Litestar user runs.)

* SSE: each event a ``ServerSentEventMessage``. Litestar has no keep-alive
  (ping), no send timeout and no shutdown handling for streams, so the peer
  declares ``keepalive=False`` (capability ``idle`` false) and passes no
  timeout: there is none to pass.
* Chat (chapter "AI token streams"): a POST handler returning
  ``ServerSentEvent`` over one ``ServerSentEventMessage`` a convention event
  (:func:`spec.kit.chat.chat_events`); no keep-alive, as for SSE.
* Plain streams (text, log lines, echoed bytes, endless lines): ``Stream``
  over the kit's producer as it is, async or sync (Litestar iterates a sync
  one in a worker thread).
* Downloads: the name is resolved below the root by Litestar's own static-file
  resolution (``StaticFiles.get_fs_info``, which keeps a ``..`` path inside the
  directory), and the file is sent with ``File`` under the asked-for name.

The routes accept HEAD as well as GET (Litestar answers 405 to a method a
route does not declare): what Litestar does with HEAD is then its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any, TypeVar, cast

from litestar import Litestar, Request, route
from litestar.enums import HttpMethod
from litestar.exceptions import NotFoundException
from litestar.file_system import BaseLocalFileSystem
from litestar.response import File, ServerSentEvent, ServerSentEventMessage, Stream
from litestar.static_files import StaticFiles
from litestar.status_codes import HTTP_200_OK

from spec.kit import (
    SSE,
    Download,
    DownloadRequest,
    Kit,
    SSERequest,
    StreamRequest,
    request_of,
    routed,
)
from spec.kit import Stream as KitStream
from spec.kit.api import REQUEST_KEY
from spec.kit.chat import ChatRequest, chat_events
from spec.sse import Event
from spec.targets.asgi_types import ASGIApp

GET_HEAD = [HttpMethod.GET, HttpMethod.HEAD]

R = TypeVar("R")


def message(event: Event) -> ServerSentEventMessage:
    return ServerSentEventMessage(
        data=event.data, event=event.event, id=event.id, retry=event.retry, comment=event.comment
    )


async def messages(events: AsyncIterator[Event]) -> AsyncIterator[ServerSentEventMessage]:
    try:
        async for event in events:
            yield message(event)
    finally:
        # Closing this generator closes the producer, as Litestar would have closed it.
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()


def kit_request(request: Request[Any, Any, Any], kind: type[R]) -> R:
    found = request_of(request.scope)
    if not isinstance(found, kind):
        raise TypeError(f"expected a {kind.__name__}, the kit routed a {type(found).__name__}")
    return found


@route("/sse", http_method=GET_HEAD, status_code=HTTP_200_OK)
async def sse(request: Request[Any, Any, Any]) -> ServerSentEvent:
    asked = kit_request(request, SSERequest)
    content: AsyncIterator[ServerSentEventMessage] | Iterable[ServerSentEventMessage]
    if isinstance(asked.events, AsyncIterator):
        content = messages(asked.events)
    else:
        content = map(message, asked.events)
    return ServerSentEvent(content, headers=dict(asked.headers))


@route("/chat", http_method=[HttpMethod.POST], status_code=HTTP_200_OK)
async def chat(request: Request[Any, Any, Any]) -> ServerSentEvent:
    asked = request.scope.get(REQUEST_KEY)
    assert isinstance(asked, ChatRequest)
    return ServerSentEvent(messages(chat_events(asked.tokens, asked.style)))


@route("/stream", http_method=[*GET_HEAD, HttpMethod.POST], status_code=HTTP_200_OK)
async def stream(request: Request[Any, Any, Any]) -> Stream:
    asked = kit_request(request, StreamRequest)
    body: AsyncIterator[Any] | Iterator[Any] = asked.body
    # Litestar takes a media type and an encoding, and writes the charset itself.
    media_type, _, charset = asked.media_type.partition("; charset=")
    return Stream(
        body, media_type=media_type, encoding=charset or "utf-8", headers=dict(asked.headers)
    )


@route("/download", http_method=GET_HEAD, status_code=HTTP_200_OK)
async def download(request: Request[Any, Any, Any]) -> File:
    asked = kit_request(request, DownloadRequest)
    # The root is the kit's, already absolute: resolving it again (resolve_symlinks=True)
    # would be a blocking realpath on the loop, which is the adapter's cost, not Litestar's.
    files = StaticFiles(
        is_html_mode=False,
        directories=[asked.root],
        file_system=BaseLocalFileSystem(),
        resolve_symlinks=False,
    )
    path, info = await files.get_fs_info(files.directories, asked.name)
    if path is None or info is None or info["type"] != "file":
        raise NotFoundException(f"no file {asked.name!r} below the served root")
    return File(
        path=path,
        file_info=info,
        filename=asked.filename if asked.filename is not None else path.name,
        content_disposition_type="attachment",
    )


litestar_app = Litestar(route_handlers=[sse, chat, stream, download])
# Litestar types its ASGI callable with its own TypedDicts; it is an ASGI app all the same.
# It is not given the lifespan (the kit answers it): its handlers here need nothing its
# startup makes, and the header chapter serves the target from a second server while the
# first runs, which Litestar's one event emitter per app does not survive (the first
# server's memory stream is never closed, an unclosed-stream ResourceWarning).
asgi = cast("ASGIApp", litestar_app)

app = Kit(
    sse=SSE(routed(asgi, "/sse"), keepalive=False),
    stream=KitStream(routed(asgi, "/stream")),
    download=Download(routed(asgi, "/download")),
    chat=routed(asgi, "/chat"),
)
