"""The source document's code as published: FastAPI ``StreamingResponse`` and hand-written framing.

The tutorial's SSE generator yields ``f"data: {json.dumps(data)}nn"`` and
``"event: donendata: 流结束nn"``: its backslashes were lost in publication, so
``\\n\\n`` reads ``nn``. Its log stream yields ``f"...{line}n"`` as
``text/plain``. This peer applies that code, exactly as printed, to the events
and text the suite asks for, with the tutorial's headers. It fetches nothing
and validates nothing beyond the request's JSON, as the tutorial does not.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response, StreamingResponse

from peers.request import Event, MalformedRequest, read_chunks, read_events

app = FastAPI()


@app.get("/conformance/capabilities")
async def capabilities() -> dict[str, bool]:
    return {"sse": True, "text": True, "comments": True, "files": False, "observe": False}


async def event_generator(request: Request, events: list[Event]) -> AsyncIterator[str]:
    for event in events:
        if await request.is_disconnected():
            break
        if event.event is not None:
            # As printed: yield "event: donendata: 流结束nn"
            yield f"event: {event.event}ndata: {event.data}nn"
        else:
            # As printed: yield f"data: {json.dumps(data)}nn"
            yield f"data: {event.data}nn"


@app.get("/conformance/sse")
async def sse_endpoint(request: Request) -> Response:
    try:
        events = read_events(request.query_params.get("events"))
    except MalformedRequest as error:
        return PlainTextResponse(f"refused: {error}", status_code=400)
    return StreamingResponse(
        event_generator(request, events),
        media_type="text/event-stream",
        headers={
            "Cache-Control": "no-cache",
            "Connection": "keep-alive",
            "X-Accel-Buffering": "no",
        },
    )


async def log_generator(chunks: list[str]) -> AsyncIterator[str]:
    for chunk in chunks:
        yield chunk


@app.get("/conformance/text")
async def stream_logs(request: Request) -> Response:
    try:
        chunks = read_chunks(request.query_params.get("chunks"))
    except MalformedRequest as error:
        return PlainTextResponse(f"refused: {error}", status_code=400)
    return StreamingResponse(
        log_generator(chunks),
        media_type="text/plain",
        headers={"X-Stream-Id": "log-stream-001", "Cache-Control": "no-cache"},
    )
