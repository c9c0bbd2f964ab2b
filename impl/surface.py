"""The reference app's factories into the kit: its own streaming responses behind the surface.

The conformance surface (parsing, gates, observation records, the files) is
served by :mod:`spec.kit`; this module supplies what the kit judges, the
reference's streaming primitives: :class:`~impl.sse.EventStreamResponse` for
SSE, :class:`~impl.streaming.StreamResponse` for text, bytes and endless
lines (:class:`~impl.logs.LogStreamResponse` for the log), JSON records
(each encoded by :func:`spec.ndjson.encode`, one record a body message), chat
token streams (:func:`impl.chat.framed` in an ``EventStreamResponse``), and
:class:`~impl.download.FileDownload` for files, each with the app's settings
and shutdown notice.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable

from starlette.responses import PlainTextResponse, Response

from impl.chat import framed
from impl.download import FileDownload
from impl.lifecycle import ShutdownNotice
from impl.logs import LogStreamResponse
from impl.settings import Settings
from impl.sse import EventStreamResponse
from impl.streaming import StreamResponse, transformed
from spec.kit import SSE, Download, DownloadRequest, Kit, SSERequest, Stream, StreamRequest
from spec.kit.chat import ChatRequest
from spec.kit.feed import feed_backend
from spec.kit.records import NDJSONRequest
from spec.ndjson import encode as encode_record
from spec.sse.encoder import validate
from spec.targets.asgi_types import ASGIApp

NOSNIFF = {"X-Content-Type-Options": "nosniff"}


async def _unterminated(lines: AsyncIterable[str]) -> AsyncIterator[str]:
    """The kit's log lines without their LF: :class:`LogStreamResponse` writes it itself."""
    iterator = aiter(lines)
    try:
        async for line in iterator:
            yield line.removesuffix("\n")
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()


def surface(settings: Settings, notice: ShutdownNotice, app: ASGIApp) -> Kit:
    """The conformance surface served with the reference's responses, in front of *app*."""

    def send_timeout(asked: float | None) -> float | None:
        return settings.send_timeout if asked is None else asked

    def sse(request: SSERequest) -> Response:
        # The reference refuses an event it cannot write unaltered before the stream starts.
        try:
            for event in request.listed or ():
                validate(event)
        except (ValueError, TypeError) as error:
            return PlainTextResponse(f"refused: {error}\n", status_code=400)
        return EventStreamResponse(
            request.events,
            headers=request.headers,
            keepalive=settings.keepalive if request.keepalive is None else request.keepalive,
            shutdown=notice,
            send_timeout=send_timeout(request.send_timeout),
        )

    def stream(request: StreamRequest) -> Response:
        if request.kind == "log":
            assert isinstance(request.body, AsyncIterable)
            return LogStreamResponse(
                _unterminated(request.body),  # type: ignore[arg-type]
                headers=request.headers,
                shutdown=notice,
                send_timeout=send_timeout(request.send_timeout),
            )
        sniffed = {} if request.kind == "bytes" else NOSNIFF
        body: AsyncIterable[str | bytes] | Iterable[str | bytes] = request.body
        return StreamResponse(
            body,
            media_type=request.media_type,
            headers={**sniffed, **request.headers},
            shutdown=notice,
            send_timeout=send_timeout(request.send_timeout),
        )

    def download(request: DownloadRequest) -> Response:
        return FileDownload(
            request.root,
            request.name,
            filename=request.filename,
            send_timeout=send_timeout(request.send_timeout),
            shutdown=notice,
        )

    def ndjson(request: NDJSONRequest) -> Response:
        return StreamResponse(
            transformed(request.records, encode_record),
            media_type=request.media_type,
            headers={**NOSNIFF, "Cache-Control": "no-cache"},
            shutdown=notice,
            send_timeout=settings.send_timeout,
        )

    def chat(request: ChatRequest) -> Response:
        return EventStreamResponse(
            framed(request.tokens, request.style),
            keepalive=settings.keepalive if request.keepalive is None else request.keepalive,
            shutdown=notice,
            send_timeout=settings.send_timeout,
        )

    return Kit(
        sse=SSE(sse),
        stream=Stream(stream),
        download=Download(download),
        app=app,
        feed=feed_backend(settings.feed),
        ndjson=ndjson,
        chat=chat,
    )
