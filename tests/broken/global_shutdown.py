"""Shutdown kept in a process-wide flag, as sse-starlette's ``AppStatus`` does.

The flag is raised by wrapping ``uvicorn.Server.handle_exit`` for the whole
process and is never lowered, so the first server's shutdown also ends every
stream of any server started later in the same process, at once. Streams
otherwise end properly on shutdown, with a final event.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from types import FrameType

import anyio
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from spec.sse import Event, encode
from spec.surface import SSE_PATH, event_from_json


class AppStatus:
    should_exit = False


_original_handle_exit = uvicorn.Server.handle_exit


def _handle_exit(self: uvicorn.Server, sig: int, frame: FrameType | None) -> None:
    AppStatus.should_exit = True
    _original_handle_exit(self, sig, frame)


uvicorn.Server.handle_exit = _handle_exit  # type: ignore[method-assign]


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


app = Starlette(routes=[Route(SSE_PATH, sse)])
