"""The conformance surface of the reference app (the suite drives it; see ``spec/surface.py``)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence

from fastapi import APIRouter, Query
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from impl.sse import EventStreamResponse
from spec.sse import Event
from spec.sse.encoder import validate
from spec.surface import (
    CAPABILITIES_PATH,
    SSE_PATH,
    TEXT_PATH,
    event_from_json,
    text_chunks_from_json,
)

router = APIRouter()

CAPABILITIES = {"sse": True, "text": True, "comments": True, "files": False, "observe": False}
"""What the reference app serves of the conformance surface (see spec.capabilities)."""


@router.get(CAPABILITIES_PATH)
async def capabilities() -> dict[str, bool]:
    """Declare which streams this app serves and which observations it offers."""
    return CAPABILITIES


def _read_events(raw: str) -> list[Event]:
    try:
        members = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ValueError(f"events is not JSON: {error}") from None
    if not isinstance(members, list):
        raise ValueError("events must be a JSON list")
    events = [event_from_json(item) for item in members]
    for event in events:
        validate(event)
    return events


async def _replay(events: Sequence[Event]) -> AsyncIterator[Event]:
    for event in events:
        yield event


@router.get(SSE_PATH)
async def sse(events: str = Query("[]")) -> Response:
    """Stream the events the suite asked for, each refused up front if it cannot be carried."""
    try:
        chosen = _read_events(events)
    except (ValueError, TypeError) as error:
        return PlainTextResponse(f"refused: {error}\n", status_code=400)
    return EventStreamResponse(_replay(chosen))


async def _text(chunks: Sequence[str]) -> AsyncIterator[str]:
    for chunk in chunks:
        yield chunk


@router.get(TEXT_PATH)
async def text(chunks: str = Query("[]")) -> Response:
    """Stream the text chunks the suite asked for, one body message each."""
    try:
        chosen = text_chunks_from_json(chunks)
    except ValueError as error:
        return PlainTextResponse(f"refused: {error}\n", status_code=400)
    return StreamingResponse(
        _text(chosen),
        media_type="text/plain; charset=utf-8",
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )
