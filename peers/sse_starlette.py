"""sse-starlette: ``EventSourceResponse`` over an async generator of ``ServerSentEvent``.

The library's own event class encodes each event; its keep-alive pings stay
at their default. sse-starlette streams SSE only, so the peer declares no text
stream (Starlette's own ``StreamingResponse`` is the ``starlette`` peer).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from peers.request import MalformedRequest, read_events


async def capabilities(request: Request) -> Response:
    return JSONResponse(
        {"sse": True, "text": False, "comments": True, "files": False, "observe": False}
    )


async def sse(request: Request) -> Response:
    try:
        events = [
            ServerSentEvent(e.data, event=e.event, id=e.id, retry=e.retry, comment=e.comment)
            for e in read_events(request.query_params.get("events"))
        ]
    except MalformedRequest as error:
        return PlainTextResponse(f"refused: {error}", status_code=400)

    async def produce() -> AsyncIterator[ServerSentEvent]:
        for event in events:
            yield event

    return EventSourceResponse(produce())


app = Starlette(
    routes=[Route("/conformance/capabilities", capabilities), Route("/conformance/sse", sse)]
)
