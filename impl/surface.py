"""The conformance surface of the reference app (the suite drives it; see ``spec/surface.py``)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import anyio
import anyio.to_thread
from fastapi import APIRouter, Query, Request
from starlette.responses import PlainTextResponse, Response

from impl import conformance_files
from impl.download import FileDownload
from impl.gates import claim_or_refuse, gated, registry_of
from impl.lifecycle import ShutdownNotice
from impl.settings import Settings
from impl.sse import EventStreamResponse
from impl.streaming import StreamResponse
from spec.sse import Event
from spec.sse.encoder import validate
from spec.surface import (
    CAPABILITIES_PATH,
    CHANGING_FILE,
    FILES_PATH,
    SSE_PATH,
    TEXT_PATH,
    download_name,
    event_from_json,
    read_json,
    text_chunks_from_json,
)
from spec.surface_hdr import custom_headers_from_json

KEEPALIVE_MIN = 0.05
"""The shortest keep-alive interval ``keepalive=`` accepts, in seconds (0 means none)."""
KEEPALIVE_MAX = 3600.0
"""The longest keep-alive interval ``keepalive=`` accepts, in seconds."""


def _keepalive(raw: str) -> float:
    """``keepalive=SECONDS`` read: 0 (no comments) or a finite number in
    ``[KEEPALIVE_MIN, KEEPALIVE_MAX]``; anything else (``inf``, ``nan``, ``1e-300``, not a
    number) raises ``ValueError``, which the route answers with 400."""
    try:
        seconds = float(raw)
    except ValueError:
        raise ValueError(f"keepalive is not a number: {raw[:40]!r}") from None
    if seconds == 0 or KEEPALIVE_MIN <= seconds <= KEEPALIVE_MAX:
        return seconds
    raise ValueError(f"keepalive must be 0 or between {KEEPALIVE_MIN} and {KEEPALIVE_MAX} seconds")


def _read_events(raw: str) -> list[Event]:
    try:
        members = read_json(raw, "events")
    except json.JSONDecodeError as error:
        raise ValueError(f"events is not JSON: {error}") from None
    if not isinstance(members, list):
        raise ValueError("events must be a JSON list")
    events = [event_from_json(item) for item in members]
    for event in events:
        validate(event)
    return events


async def _replay(events: AsyncIterator[Event], *, hold: bool) -> AsyncIterator[Event]:
    async for event in events:
        yield event
    if hold:
        await anyio.sleep_forever()


CAPABILITIES = {
    "sse": True,
    "text": True,
    "comments": True,
    "files": True,
    "endless": True,
    "feed": True,
    "bytes": True,
    "log": True,
    "idle": True,
    "observe": True,
    "gates": True,
    "headers": True,
    "stop": True,
}
"""What the reference app serves of the conformance surface (see spec.capabilities)."""


def build_router(settings: Settings, notice: ShutdownNotice) -> APIRouter:
    """The surface's SSE and text routes."""
    router = APIRouter()

    @router.get(CAPABILITIES_PATH)
    async def capabilities() -> dict[str, bool]:
        """Declare which streams this app serves and which observations it offers."""
        return CAPABILITIES

    @router.api_route(SSE_PATH, methods=["GET", "HEAD"])
    async def sse(
        request: Request,
        *,
        events: str = Query("[]"),
        hold: bool = Query(False),
        keepalive: str | None = Query(None),
        gate: str | None = Query(None),
        headers: str = Query("{}"),
    ) -> Response:
        """Stream the events the suite asked for, each refused up front if it cannot be carried."""
        try:
            interval = settings.keepalive if keepalive is None else _keepalive(keepalive)
            chosen = _read_events(events)
            extra = custom_headers_from_json(headers)
        except (ValueError, TypeError) as error:
            return PlainTextResponse(f"refused: {error}\n", status_code=400)
        claimed = claim_or_refuse(request, gate)
        if isinstance(claimed, Response):
            return claimed
        return EventStreamResponse(
            _replay(gated(chosen, claimed, registry_of(request)), hold=hold),
            headers=extra,
            keepalive=interval,
            shutdown=notice,
            send_timeout=settings.send_timeout,
        )

    @router.api_route(TEXT_PATH, methods=["GET", "HEAD"])
    async def text(
        request: Request,
        chunks: str = Query("[]"),
        gate: str | None = Query(None),
        declare_length: bool = Query(False),
        headers: str = Query("{}"),
    ) -> Response:
        """Stream the text chunks the suite asked for, one body message each, at its gate if any."""
        try:
            chosen = text_chunks_from_json(chunks)
            extra = custom_headers_from_json(headers)
        except ValueError as error:
            return PlainTextResponse(f"refused: {error}\n", status_code=400)
        claimed = claim_or_refuse(request, gate)
        if isinstance(claimed, Response):
            return claimed
        fields = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff", **extra}
        if declare_length:
            fields["Content-Length"] = str(sum(len(chunk.encode()) for chunk in chosen))
        return StreamResponse(
            gated(chosen, claimed, registry_of(request)),
            media_type="text/plain; charset=utf-8",
            headers=fields,
            shutdown=notice,
            send_timeout=settings.send_timeout,
        )

    @router.api_route(FILES_PATH + "/{name:path}", methods=["GET", "HEAD"])
    async def conformance_file(name: str, request: Request) -> Response:
        """A conformance file, served as every download is; ``?as=`` names it for the client."""
        try:
            offered = download_name(request.scope["query_string"])
        except ValueError as error:
            return PlainTextResponse(f"refused: {error}\n", status_code=400)
        served = await anyio.to_thread.run_sync(conformance_files.root)
        return FileDownload(served, name, filename=offered)

    @router.post(f"{FILES_PATH}/{CHANGING_FILE}")
    async def resize_changing_file(size: str = Query(...)) -> Response:
        """Set the length of ``changing.bin`` in place (the suite resizes it mid-download)."""
        try:
            await anyio.to_thread.run_sync(conformance_files.resize_changing, int(size))
        except ValueError as error:
            return PlainTextResponse(f"refused: {error}\n", status_code=400)
        return Response(status_code=204)

    return router
