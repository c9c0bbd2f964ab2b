"""The surface endpoints of the header chapter: paced streams, custom headers, the 204 stop.

See ``spec/surface_hdr.py`` for their contract. A paced stream waits for the
suite's go-ahead before each item; while it waits it also watches for the
client's departure, so an abandoned paced stream ends instead of waiting on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import TypeVar

import anyio
from fastapi import APIRouter, Query, Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from impl.pacing import Pacer
from impl.sse import EventStreamResponse
from impl.surface import _read_events
from spec.sse import Event
from spec.surface import text_chunks_from_json
from spec.surface_hdr import (
    PACED_NEXT_PATH,
    PACED_SSE_PATH,
    PACED_TEXT_PATH,
    SSE_STOP_PATH,
    custom_headers_from_json,
    pace_key_from_query,
)

router = APIRouter()
pacer = Pacer()

T = TypeVar("T")


async def _client_gone(request: Request) -> None:
    """Return when the server says the client has disconnected."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def _paced(items: Sequence[T], key: str, request: Request) -> AsyncIterator[T]:
    """Yield *items*, each after its go-ahead; stop early if the client leaves."""
    try:
        for index, item in enumerate(items):
            async with anyio.create_task_group() as group:
                gone = False

                async def watch() -> None:
                    nonlocal gone
                    await _client_gone(request)
                    gone = True
                    group.cancel_scope.cancel()

                group.start_soon(watch)
                await pacer.wait(key, index)
                group.cancel_scope.cancel()
            if gone:
                return
            yield item
    finally:
        pacer.forget(key)


def _refused(error: Exception) -> Response:
    return PlainTextResponse(f"refused: {error}\n", status_code=400)


@router.get(PACED_SSE_PATH)
async def paced_sse(
    request: Request, events: str = Query("[]"), pace: str = Query(""), headers: str = Query("{}")
) -> Response:
    """The events asked for, each sent once the suite says go, with the headers asked for."""
    try:
        chosen: list[Event] = _read_events(events)
        key = pace_key_from_query(pace)
        extra = custom_headers_from_json(headers)
    except (ValueError, TypeError) as error:
        return _refused(error)
    return EventStreamResponse(_paced(chosen, key, request), headers=extra)


@router.get(PACED_TEXT_PATH)
async def paced_text(
    request: Request, chunks: str = Query("[]"), pace: str = Query(""), headers: str = Query("{}")
) -> Response:
    """The text chunks asked for, each sent once the suite says go, with the headers asked for."""
    try:
        chosen = text_chunks_from_json(chunks)
        key = pace_key_from_query(pace)
        extra = custom_headers_from_json(headers)
    except ValueError as error:
        return _refused(error)
    return StreamingResponse(
        _paced(chosen, key, request),
        media_type="text/plain; charset=utf-8",
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff", **extra},
    )


@router.get(PACED_NEXT_PATH)
async def paced_next(pace: str = Query("")) -> Response:
    """One go-ahead for the stream paced by *pace*."""
    try:
        key = pace_key_from_query(pace)
    except ValueError as error:
        return _refused(error)
    pacer.go(key)
    return Response(status_code=204)


@router.get(SSE_STOP_PATH)
async def sse_stop() -> Response:
    """A stream that is over for good: 204 tells an EventSource not to reconnect."""
    return Response(status_code=204)
