"""The surface's finite streams: ``/conformance/sse``, ``text``, ``log``, ``bytes``, ``sse/stop``.

Moved from the reference app (``impl/surface.py``, ``impl/logs.py``,
``impl/chunks.py``, ``impl/surface_hdr.py``). Each route parses and refuses
the request as the reference did (400 for a malformed parameter, the gates'
400/409/503, 413 for a body too large), builds the producer (gated where the
suite asked), and answers with what the implementation's factory returns for
it. Written by hand: the surface is streamspec's own protocol, which no
library implements; the streaming itself is the factory's.

One refusal is left to the library: an event whose id or type holds CR, LF or
NUL is handed to the SSE factory like any other (``SSE-ENC-07`` and ``08``
judge what the library does with it); :attr:`SSERequest.listed
<spec.kit.api.SSERequest.listed>` lets a library that checks a response's
events before it starts refuse them up front. Custom headers (``headers=JSON``)
are refused by the kit (:func:`spec.surface_hdr.custom_headers_from_json`) before
a factory sees them, as the surface requires: under the kit, ``HDR-INPUT-01``
shows that refusal, not the library's handling of header values.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from itertools import accumulate

import anyio
from fastapi import APIRouter, Query, Request
from starlette.responses import PlainTextResponse, Response

from spec.kit.api import SSE, SSERequest, Stream, StreamRequest
from spec.kit.bodies import read_capped, too_large
from spec.kit.factories import Factories, respond
from spec.kit.gates import claim_or_refuse, gated, registry_of
from spec.kit.params import keepalive as read_keepalive
from spec.kit.params import read_events
from spec.sse import Event
from spec.surface import (
    BYTES_PATH,
    LOG_PATH,
    SSE_PATH,
    TEXT_PATH,
    byte_sizes_from_json,
    log_lines_from_json,
    text_chunks_from_json,
)
from spec.surface_hdr import SSE_STOP_PATH, custom_headers_from_json

TEXT_TYPE = "text/plain; charset=utf-8"
BYTES_TYPE = "application/octet-stream"
NO_CACHE = {"Cache-Control": "no-cache"}

MAX_BODY = 8 * 1024 * 1024
"""The largest body ``/conformance/bytes`` echoes; a larger one gets 413 before streaming."""

MAX_CHUNKS = 10_000
"""The most chunks one ``/conformance/bytes`` request may ask for."""


def refuse(status: int, why: object) -> Response:
    """The surface's refusal: *status* and a line saying why."""
    return PlainTextResponse(f"refused: {why}\n", status_code=status)


async def _replay(events: AsyncGenerator[Event, None], *, hold: bool) -> AsyncIterator[Event]:
    """*events*, then (with *hold*) nothing for ever; closing it closes *events* at once."""
    try:
        async for event in events:
            yield event
        if hold:
            await anyio.sleep_forever()
    finally:
        await events.aclose()


def build_router(supplied: Factories) -> APIRouter:
    """The routes of the streams *supplied* can serve (the others are not routed at all)."""
    router = APIRouter()
    if supplied.sse is not None:
        _add_sse(router, supplied.sse)
    if supplied.stream is not None:
        _add_plain(router, supplied.stream)
    return router


def _add_sse(router: APIRouter, sse_factory: SSE) -> None:
    """``/conformance/sse`` and ``/conformance/sse/stop``."""

    @router.api_route(SSE_PATH, methods=["GET", "HEAD"])
    async def sse(
        request: Request,
        *,
        events: str = Query("[]"),
        hold: bool = Query(False),
        keepalive: str | None = Query(None),
        gate: str | None = Query(None),
        headers: str = Query("{}"),
    ) -> Response:
        """Stream the events the suite asked for, with the library's SSE response."""
        try:
            interval = None if keepalive is None else read_keepalive(keepalive)
            chosen = read_events(events)
            extra = custom_headers_from_json(headers)
        except (ValueError, TypeError) as error:
            return refuse(400, error)
        claimed = claim_or_refuse(request, gate)
        if isinstance(claimed, Response):
            return claimed
        asked = SSERequest(
            events=_replay(gated(chosen, claimed, registry_of(request)), hold=hold),
            headers=extra,
            keepalive=interval,
            send_timeout=None,
            scope=request.scope,
            listed=tuple(chosen),
        )
        return await respond(sse_factory.factory, asked)

    @router.get(SSE_STOP_PATH)
    async def sse_stop() -> Response:
        """A stream that is over for good: 204 tells an EventSource not to reconnect."""
        return Response(status_code=204)


def _add_plain(router: APIRouter, stream_factory: Stream) -> None:
    """The text, log and bytes streams the Stream factory serves."""
    if "text" in stream_factory.kinds:

        @router.api_route(TEXT_PATH, methods=["GET", "HEAD"])
        async def text(
            request: Request,
            chunks: str = Query("[]"),
            gate: str | None = Query(None),
            declare_length: bool = Query(False),
            headers: str = Query("{}"),
        ) -> Response:
            """Stream the text chunks the suite asked for, one body message each."""
            try:
                chosen = text_chunks_from_json(chunks)
                extra = custom_headers_from_json(headers)
            except ValueError as error:
                return refuse(400, error)
            claimed = claim_or_refuse(request, gate)
            if isinstance(claimed, Response):
                return claimed
            fields = {**NO_CACHE, **extra}
            if declare_length:
                fields["Content-Length"] = str(sum(len(chunk.encode()) for chunk in chosen))
            asked = StreamRequest(
                kind="text",
                body=gated(chosen, claimed, registry_of(request)),
                media_type=TEXT_TYPE,
                headers=fields,
                send_timeout=None,
                scope=request.scope,
            )
            return await respond(stream_factory.factory, asked)

    if "log" in stream_factory.kinds:

        @router.api_route(LOG_PATH, methods=["GET", "HEAD"])
        async def log(
            request: Request, lines: str = Query("[]"), gate: str | None = Query(None)
        ) -> Response:
            """Stream the lines the suite asked for as a log, each ending in LF."""
            try:
                chosen = log_lines_from_json(lines)
            except ValueError as error:
                return refuse(400, error)
            claimed = claim_or_refuse(request, gate)
            if isinstance(claimed, Response):
                return claimed
            asked = StreamRequest(
                kind="log",
                body=gated([line + "\n" for line in chosen], claimed, registry_of(request)),
                media_type=TEXT_TYPE,
                headers=dict(NO_CACHE),
                send_timeout=None,
                scope=request.scope,
            )
            return await respond(stream_factory.factory, asked)

    if "bytes" in stream_factory.kinds:

        @router.post(BYTES_PATH)
        async def echo_bytes(
            request: Request,
            sizes: str = Query("[]"),
            gate: str | None = Query(None),
            send_timeout: float | None = Query(None, gt=0, le=3600),
        ) -> Response:
            """Stream the request body back in chunks of the requested sizes."""
            try:
                chosen = byte_sizes_from_json(sizes)
            except ValueError as error:
                return refuse(400, error)
            if len(chosen) > MAX_CHUNKS:
                return refuse(400, f"at most {MAX_CHUNKS} chunks")
            body = await read_capped(request, MAX_BODY)
            if body is None:
                return too_large(MAX_BODY)
            if sum(chosen) != len(body):
                return refuse(400, f"sizes add up to {sum(chosen)}, the body has {len(body)} bytes")
            claimed = claim_or_refuse(request, gate)
            if isinstance(claimed, Response):
                return claimed
            ends = list(accumulate(chosen))
            chunks = [body[end - size : end] for size, end in zip(chosen, ends, strict=True)]
            asked = StreamRequest(
                kind="bytes",
                body=gated(chunks, claimed, registry_of(request)),
                media_type=BYTES_TYPE,
                headers=dict(NO_CACHE),
                send_timeout=send_timeout,
                scope=request.scope,
            )
            return await respond(stream_factory.factory, asked)
