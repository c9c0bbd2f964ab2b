"""A bare Starlette app implementing ``/conformance/sse`` with whatever framing it is given.

The broken encoders and peers plug their framing in here, so each differs from
a correct app in its framing alone.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from spec.sse import Event
from spec.surface import SSE_PATH, TEXT_PATH, event_from_json, text_chunks_from_json

Framing = Callable[[Event], bytes | str]


def surface_app(
    framing: Framing, *, media_type: str = "text/event-stream", check_input: bool = True
) -> Starlette:
    """An app whose ``/conformance/sse`` writes each requested event with *framing*.

    Args:
        framing: turns one event into the bytes (or text) written for it.
        media_type: the Content-Type of the stream.
        check_input: answer 400 to a malformed ``events`` parameter; without
            it, bad input raises inside the app (a 500).
    """

    async def sse(request: Request) -> Response:
        raw = request.query_params.get("events", "[]")
        if check_input:
            try:
                members = json.loads(raw)
                if not isinstance(members, list):
                    raise ValueError("not a list")
                events = [event_from_json(m) for m in members]
            except ValueError as error:
                return PlainTextResponse(f"refused: {error}", status_code=400)
        else:
            events = [Event(**m) for m in json.loads(raw)]

        async def body() -> AsyncIterator[bytes | str]:
            for event in events:
                yield framing(event)

        return StreamingResponse(body(), media_type=media_type)

    return Starlette(routes=[Route(SSE_PATH, sse)])


def text_app(*, ascii_only: bool = False, check_input: bool = True) -> Starlette:
    """An app whose ``/conformance/text`` is broken as asked.

    Args:
        ascii_only: encode the chunks as ASCII, dropping everything else.
        check_input: answer 400 to a malformed ``chunks`` parameter; without
            it, bad input raises inside the app (a 500).
    """

    async def text(request: Request) -> Response:
        raw = request.query_params.get("chunks", "[]")
        if check_input:
            try:
                chunks = text_chunks_from_json(raw)
            except ValueError as error:
                return PlainTextResponse(f"refused: {error}", status_code=400)
        else:
            chunks = json.loads(raw)

        async def body() -> AsyncIterator[bytes]:
            for chunk in chunks:
                yield chunk.encode("ascii", "ignore") if ascii_only else chunk.encode()

        return StreamingResponse(body(), media_type="text/plain; charset=utf-8")

    return Starlette(routes=[Route(TEXT_PATH, text)])
