"""The conformance surface of the reference app (the suite drives it; see ``spec/surface.py``)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence

from fastapi import APIRouter, Query, Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from impl.gates import claim_or_refuse, gated, registry_of
from impl.sse import EventStreamResponse
from spec.sse import Event
from spec.sse.encoder import validate
from spec.surface import SSE_PATH, TEXT_PATH, event_from_json, text_chunks_from_json

router = APIRouter()


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


@router.get(TEXT_PATH)
async def text(
    request: Request,
    chunks: str = Query("[]"),
    gate: str | None = Query(None),
    declare_length: bool = Query(False),
) -> Response:
    """Stream the text chunks the suite asked for, one body message each, at its gate if any."""
    try:
        chosen = text_chunks_from_json(chunks)
    except ValueError as error:
        return PlainTextResponse(f"refused: {error}\n", status_code=400)
    claimed = claim_or_refuse(request, gate)
    if isinstance(claimed, Response):
        return claimed
    headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    if declare_length:
        headers["Content-Length"] = str(sum(len(chunk.encode()) for chunk in chosen))
    return StreamingResponse(
        gated(chosen, claimed, registry_of(request)),
        media_type="text/plain; charset=utf-8",
        headers=headers,
    )
