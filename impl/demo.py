"""The source document's three cases, done right.

* ``GET /logs/stream``: a live text log, one line a chunk, each ending in a real newline.
* ``GET /events``: Server-Sent Events carrying JSON, each with an id, ending with ``event: done``.
* ``GET /download/{name}``: a file from the configured root (:mod:`impl.download`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import anyio
from fastapi import APIRouter
from starlette.responses import Response, StreamingResponse

from impl.download import FileDownload
from impl.settings import Settings
from impl.sse import EventStreamResponse
from spec.sse import Event


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def build_router(settings: Settings) -> APIRouter:
    """The demo routes, reading their pacing and file root from *settings*."""
    router = APIRouter()

    @router.get("/logs/stream")
    async def log_stream() -> Response:
        async def lines() -> AsyncIterator[str]:
            for number in range(1, settings.log_lines + 1):
                yield f"{_now()} INFO line {number} of {settings.log_lines}: ok\n"
                if number < settings.log_lines:
                    await anyio.sleep(settings.log_interval)

        return StreamingResponse(
            lines(),
            media_type="text/plain; charset=utf-8",
            headers={
                "X-Stream-Id": str(uuid.uuid4()),
                "Cache-Control": "no-cache",
                "X-Content-Type-Options": "nosniff",
            },
        )

    @router.get("/events")
    async def events() -> Response:
        async def produce() -> AsyncIterator[Event]:
            for number in range(1, settings.event_count + 1):
                payload = {"seq": number, "time": _now(), "message": f"update {number}"}
                yield Event(data=json.dumps(payload), id=str(number))
                await anyio.sleep(settings.event_interval)
            done = {"total": settings.event_count}
            yield Event(data=json.dumps(done), event="done", id=str(settings.event_count + 1))

        return EventStreamResponse(produce())

    @router.api_route("/download/{name:path}", methods=["GET", "HEAD"])
    async def download(name: str) -> Response:
        return FileDownload(settings.files_root, name)

    return router
