"""NDJSON streams that take a liberty the text allows, behind the kit.

``tests/test_ndjson_fails.py`` shows every NDJSON check passing on them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable

from starlette.responses import Response, StreamingResponse

from spec.kit import Kit, Stream, StreamRequest
from spec.kit.records import NDJSONRequest
from spec.ndjson import encode


def _jsonl(request: NDJSONRequest) -> Response:
    """JSON Lines' media type, ``application/jsonl``, ASCII-escaped records, CRLF ends."""

    async def lines() -> AsyncIterator[bytes]:
        async for value in request.records:
            yield json.dumps(value, ensure_ascii=True).encode() + b"\r\n"

    return StreamingResponse(lines(), media_type="application/jsonl")


def _split_records(request: NDJSONRequest) -> Response:
    """Each record sent in pieces: one byte, then the rest cut in the middle (inside a
    UTF-8 sequence where it falls there), then its LF alone."""

    async def pieces() -> AsyncIterator[bytes]:
        async for value in request.records:
            record = encode(value)
            body, middle = record[:-1], max(1, len(record) // 2)
            yield body[:1]
            yield body[1:middle]
            yield body[middle:]
            yield b"\n"

    return StreamingResponse(pieces(), media_type=request.media_type)


def _endless(request: StreamRequest) -> Response:
    return StreamingResponse(request.body, media_type=request.media_type)


def _kit(factory: Callable[[NDJSONRequest], Response]) -> Kit:
    """*factory* for NDJSON, with endless lines (which bring the observe endpoint)."""
    return Kit(ndjson=factory, stream=Stream(_endless, kinds=frozenset({"endless"})))


jsonl = _kit(_jsonl)
split_records = _kit(_split_records)
