"""Litestar: ``ServerSentEvent`` over ``ServerSentEventMessage`` items, and ``Stream`` for text."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from litestar import Litestar, Request, Response, get
from litestar.response import ServerSentEvent, ServerSentEventMessage, Stream

from peers.request import MalformedRequest, read_chunks, read_events


def _refused(error: Exception) -> Response[str]:
    return Response(f"refused: {error}", status_code=400, media_type="text/plain")


@get("/conformance/capabilities")
async def capabilities() -> dict[str, bool]:
    return {"sse": True, "text": True, "comments": True, "files": False, "observe": False}


@get("/conformance/sse")
async def sse(request: Request[Any, Any, Any]) -> ServerSentEvent | Response[str]:
    try:
        messages = [
            ServerSentEventMessage(
                data=e.data, event=e.event, id=e.id, retry=e.retry, comment=e.comment
            )
            for e in read_events(request.query_params.get("events"))
        ]
    except MalformedRequest as error:
        return _refused(error)

    async def produce() -> AsyncIterator[ServerSentEventMessage]:
        for message in messages:
            yield message

    return ServerSentEvent(produce())


@get("/conformance/text")
async def text(request: Request[Any, Any, Any]) -> Stream | Response[str]:
    try:
        chosen = read_chunks(request.query_params.get("chunks"))
    except MalformedRequest as error:
        return _refused(error)

    async def produce() -> AsyncIterator[str]:
        for chunk in chosen:
            yield chunk

    return Stream(produce(), media_type="text/plain; charset=utf-8")


app = Litestar(route_handlers=[capabilities, sse, text])
