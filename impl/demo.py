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
from fastapi import APIRouter, Request
from starlette.responses import Response

from impl.download import FileDownload
from impl.lifecycle import ShutdownNotice
from impl.logs import LogStreamResponse
from impl.settings import Settings
from impl.sse import EventStreamResponse
from spec.sse import Event


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _resume_after(last_event_id: str | None) -> int:
    """The number of the last event a reconnecting client has (0 if none or not ours)."""
    if last_event_id and last_event_id.isascii() and last_event_id.isdigit():
        return int(last_event_id)
    return 0


def build_router(settings: Settings, notice: ShutdownNotice) -> APIRouter:
    """The demo routes, reading their pacing and file root from *settings*."""
    router = APIRouter()

    @router.api_route("/logs/stream", methods=["GET", "HEAD"])
    async def log_stream() -> Response:
        async def lines() -> AsyncIterator[str]:
            for number in range(1, settings.log_lines + 1):
                yield f"{_now()} INFO line {number} of {settings.log_lines}: ok"
                if number < settings.log_lines:
                    await anyio.sleep(settings.log_interval)

        return LogStreamResponse(
            lines(),
            headers={"X-Stream-Id": str(uuid.uuid4())},
            shutdown=notice,
            send_timeout=settings.send_timeout,
        )

    @router.api_route("/events", methods=["GET", "HEAD"])
    async def events(request: Request) -> Response:
        # Event n has id n, so a client that reconnects with Last-Event-ID: n
        # resumes at n + 1 and misses nothing.
        first = _resume_after(request.headers.get("last-event-id")) + 1

        async def produce() -> AsyncIterator[Event]:
            for number in range(first, settings.event_count + 1):
                payload = {"seq": number, "time": _now(), "message": f"update {number}"}
                yield Event(data=json.dumps(payload), id=str(number))
                await anyio.sleep(settings.event_interval)
            done = {"total": settings.event_count}
            yield Event(data=json.dumps(done), event="done", id=str(settings.event_count + 1))

        return EventStreamResponse(
            produce(),
            keepalive=settings.keepalive,
            shutdown=notice,
            send_timeout=settings.send_timeout,
        )

    @router.api_route("/download/{name:path}", methods=["GET", "HEAD"])
    async def download(name: str) -> Response:
        return FileDownload(settings.files_root, name)

    return router
