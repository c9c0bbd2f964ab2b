"""FastAPI's native SSE: ``response_class=EventSourceResponse`` and ``fastapi.sse.ServerSentEvent``.

Each requested event becomes a ``ServerSentEvent(raw_data=...)`` (``raw_data``
sends the string as it is; ``data`` would JSON-encode it). The events are built
in a dependency, before the response starts, so an event FastAPI's model
refuses (a type or id with a line break, an id with NUL) is answered 400.
Text is FastAPI's ``StreamingResponse`` over an async generator.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Query
from fastapi.responses import StreamingResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import ValidationError

from peers.request import MalformedRequest, read_chunks, read_events

app = FastAPI()


@app.get("/conformance/capabilities")
async def capabilities() -> dict[str, bool]:
    return {"sse": True, "text": True, "comments": True, "files": False, "observe": False}


def requested_events(events: str = Query("[]")) -> list[ServerSentEvent]:
    try:
        return [
            ServerSentEvent(
                raw_data=e.data, event=e.event, id=e.id, retry=e.retry, comment=e.comment
            )
            for e in read_events(events)
        ]
    except (MalformedRequest, ValidationError) as error:
        raise HTTPException(400, f"refused: {error}") from None


@app.get("/conformance/sse", response_class=EventSourceResponse)
async def sse(
    events: Annotated[list[ServerSentEvent], Depends(requested_events)],
) -> AsyncIterator[ServerSentEvent]:
    for event in events:
        yield event


@app.get("/conformance/text")
async def text(chunks: str = Query("[]")) -> StreamingResponse:
    try:
        chosen = read_chunks(chunks)
    except MalformedRequest as error:
        raise HTTPException(400, f"refused: {error}") from None

    async def produce() -> AsyncIterator[str]:
        for chunk in chosen:
            yield chunk

    return StreamingResponse(produce(), media_type="text/plain; charset=utf-8")
