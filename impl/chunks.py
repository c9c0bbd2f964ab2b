"""``POST /conformance/bytes``: the request body streamed back, cut where the suite says.

The suite chooses the bytes and the cuts (empty, one-byte and large chunks),
so it can show that whatever a producer yields reaches the client unaltered.
"""

from __future__ import annotations

from itertools import accumulate

from fastapi import APIRouter, Query, Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from impl.gates import claim_or_refuse, gated, registry_of
from spec.surface import BYTES_PATH, byte_sizes_from_json

MAX_BODY = 8 * 1024 * 1024
"""The largest body echoed; a larger one gets 413 before anything is streamed."""

MAX_CHUNKS = 10_000
"""The most chunks one request may ask for."""

router = APIRouter()


def _refuse(status: int, why: str) -> Response:
    return PlainTextResponse(f"refused: {why}\n", status_code=status)


async def _read_body(request: Request) -> bytes | None:
    """The request body, or ``None`` once it grows past :data:`MAX_BODY`."""
    body = bytearray()
    async for part in request.stream():
        body += part
        if len(body) > MAX_BODY:
            return None
    return bytes(body)


@router.post(BYTES_PATH)
async def echo_bytes(
    request: Request, sizes: str = Query("[]"), gate: str | None = Query(None)
) -> Response:
    """Stream the request body back in chunks of the requested sizes, at its gate if any."""
    try:
        chosen = byte_sizes_from_json(sizes)
    except ValueError as error:
        return _refuse(400, str(error))
    if len(chosen) > MAX_CHUNKS:
        return _refuse(400, f"at most {MAX_CHUNKS} chunks")
    body = await _read_body(request)
    if body is None:
        return _refuse(413, f"the body is larger than {MAX_BODY} bytes")
    if sum(chosen) != len(body):
        return _refuse(400, f"sizes add up to {sum(chosen)}, the body has {len(body)} bytes")
    claimed = claim_or_refuse(request, gate)
    if isinstance(claimed, Response):
        return claimed
    ends = list(accumulate(chosen))
    chunks = [body[end - size : end] for size, end in zip(chosen, ends, strict=True)]
    return StreamingResponse(
        gated(chunks, claimed, registry_of(request)),
        media_type="application/octet-stream",
        headers={"Cache-Control": "no-cache"},
    )
