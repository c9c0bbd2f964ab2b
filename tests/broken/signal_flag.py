"""Shutdown kept in a process-wide flag raised by a signal handler, on any server.

The server-agnostic form of :mod:`tests.broken.global_shutdown` (which wraps
uvicorn's ``handle_exit``, as sse-starlette does): at each lifespan startup the
app chains a SIGTERM handler in front of the server's, as the reference does, but
the handler raises a module-level flag that is never lowered, so the first
server's shutdown also ends every stream of a later server in the same process,
at once. Streams otherwise end properly on shutdown, with a final event.
``global_shutdown`` shares its flag and its route.
"""

from __future__ import annotations

import json
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import FrameType

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from spec.sse import Event, encode
from spec.surface import SSE_PATH, event_from_json


class AppStatus:
    should_exit = False


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    previous = signal.getsignal(signal.SIGTERM)

    def handler(signum: int, frame: FrameType | None) -> None:
        AppStatus.should_exit = True
        if callable(previous):
            previous(signum, frame)

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


async def sse(request: Request) -> Response:
    events = [event_from_json(m) for m in json.loads(request.query_params["events"])]
    hold = request.query_params.get("hold") == "true"

    async def body() -> AsyncIterator[bytes]:
        for event in events:
            if AppStatus.should_exit:
                break
            yield encode(event)
        while hold and not AppStatus.should_exit:  # noqa: ASYNC110 - polling the flag, as it does
            await anyio.sleep(0.05)
        if AppStatus.should_exit:
            yield encode(Event("server shutting down", event="shutdown"))

    return StreamingResponse(body(), media_type="text/event-stream")


app = Starlette(routes=[Route(SSE_PATH, sse)], lifespan=lifespan)
