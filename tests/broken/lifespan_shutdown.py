"""Shutdown handling that never fires while a stream is open: it waits for the lifespan shutdown.

The app ends its held streams, with a final event, once its lifespan
``shutdown`` has come. uvicorn sends that only after every response has
ended, so on SIGTERM the held streams wait for the server and the server waits
for them: the handling never fires while it is needed (the streams end when
their clients give up). The event belongs to the app and is made anew at each
startup, so nothing leaks into a later server.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from spec.sse import Event, encode
from spec.surface import SSE_PATH, event_from_json


class _Lifespan:
    shut_down: anyio.Event | None = None


_lifespan = _Lifespan()


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    _lifespan.shut_down = anyio.Event()
    try:
        yield
    finally:
        _lifespan.shut_down.set()


async def sse(request: Request) -> Response:
    events = [event_from_json(m) for m in json.loads(request.query_params["events"])]
    hold = request.query_params.get("hold") == "true"
    shut_down = _lifespan.shut_down

    async def body() -> AsyncIterator[bytes]:
        for event in events:
            yield encode(event)
        if hold:
            if shut_down is None:
                await anyio.sleep_forever()
            else:
                await shut_down.wait()
            yield encode(Event("server shutting down", event="shutdown"))

    return StreamingResponse(body(), media_type="text/event-stream")


app = Starlette(routes=[Route(SSE_PATH, sse)], lifespan=lifespan)
