"""NDJSON streams broken in one way each, behind the kit (``GET /conformance/ndjson``).

Each is a :class:`spec.kit.Kit` whose NDJSON factory gets one detail wrong;
``tests/test_ndjson_fails.py`` names the checks that must catch it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.responses import Response, StreamingResponse

from spec.kit import Kit
from spec.kit.records import NDJSONRequest, RecordsFailed
from spec.ndjson import encode


def _stream(request: NDJSONRequest, lines: AsyncIterator[bytes], media_type: str = "") -> Response:
    return StreamingResponse(lines, media_type=media_type or request.media_type)


def _raw_newline(request: NDJSONRequest) -> Response:
    """Pretty-printed records: ``indent`` puts raw LFs inside each one."""

    async def lines() -> AsyncIterator[bytes]:
        async for value in request.records:
            yield json.dumps(value, indent=1).encode() + b"\n"

    return _stream(request, lines())


def _buffered(request: NDJSONRequest) -> Response:
    """Every record gathered first, then sent in one message."""

    async def lines() -> AsyncIterator[bytes]:
        gathered = [encode(value) async for value in request.records]
        yield b"".join(gathered)

    return _stream(request, lines())


def _clean_end_after_error(request: NDJSONRequest) -> Response:
    """The producer's failure swallowed: the body ends cleanly, the truncation hidden."""

    async def lines() -> AsyncIterator[bytes]:
        try:
            async for value in request.records:
                yield encode(value)
        except RecordsFailed:
            return

    return _stream(request, lines())


def _wrong_type(request: NDJSONRequest) -> Response:
    """Records sent as ``application/json``: not one JSON text, and not the NDJSON type."""

    async def lines() -> AsyncIterator[bytes]:
        async for value in request.records:
            yield encode(value)

    return _stream(request, lines(), "application/json")


def _ascii_latin1(request: NDJSONRequest) -> Response:
    """Records encoded in Latin-1, not UTF-8 (and ``?`` for what Latin-1 cannot hold)."""

    async def lines() -> AsyncIterator[bytes]:
        async for value in request.records:
            text = json.dumps(value, ensure_ascii=False) + "\n"
            yield text.encode("latin-1", errors="replace")

    return _stream(request, lines())


def _no_final_lf(request: NDJSONRequest) -> Response:
    """Records separated by LF, the last one left without it."""

    async def lines() -> AsyncIterator[bytes]:
        first = True
        async for value in request.records:
            record: Any = encode(value)[:-1]
            yield record if first else b"\n" + record
            first = False

    return _stream(request, lines())


raw_newline = Kit(ndjson=_raw_newline)
buffered = Kit(ndjson=_buffered)
clean_end_after_error = Kit(ndjson=_clean_end_after_error)
wrong_type = Kit(ndjson=_wrong_type)
latin1 = Kit(ndjson=_ascii_latin1)
no_final_lf = Kit(ndjson=_no_final_lf)
undeclared = Kit(stream=lambda request: Response(status_code=500))
"""No NDJSON factory: the capability is false (not broken: the rules do not apply)."""
