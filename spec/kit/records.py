"""``GET /conformance/ndjson``: JSON records the suite chose, for the NDJSON chapter.

Query parameters: ``records`` (a JSON array of any JSON values, default
``[]``), ``gate`` and ``gate_first`` (the surface's gates: the producer waits
at the gate before each record after the first), ``fail_after=N`` (the
producer raises after handing over N records: the body must then be aborted,
never ended cleanly). ``GET /conformance/ndjson/cursor?id=ID`` streams the rows
of a real SQLite query (:mod:`spec.kit.cursor`), observed under ``id``. The
kit hands the factory an :class:`NDJSONRequest` whose ``records`` yields the
JSON *values*; the library encodes each as one record (one JSON text in UTF-8,
then LF) and sends it as soon as it is made,
with ``media_type`` (``application/x-ndjson``; a library may send
``application/jsonl`` instead).

Written by hand: the surface is streamspec's protocol; the encoding and
streaming are the library's.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.responses import PlainTextResponse, Response

from spec.kit.cursor import rows
from spec.kit.factories import respond
from spec.kit.gates import claim_or_refuse, gated, registry_of
from spec.kit.observations import Observations
from spec.surface import NDJSON_PATH
from spec.targets.asgi_types import ASGIApp, Scope

NDJSON_TYPE = "application/x-ndjson"
MAX_RECORDS = 10_000


class RecordsFailed(RuntimeError):
    """The failure the suite asked for with ``fail_after=N``."""


@dataclass(frozen=True)
class NDJSONRequest:
    """One NDJSON stream the suite asked for.

    Attributes:
        records: the producer of JSON values (dict, list, str, int, float,
            bool, None), each to be encoded as one record and sent as it is
            made; it may raise :class:`RecordsFailed`, and then the body must
            be aborted (no clean end).
        media_type: the Content-Type to send.
        scope: the ASGI scope of the request.
    """

    records: AsyncIterator[Any]
    media_type: str
    scope: Scope


NDJSONFactory = Callable[[NDJSONRequest], Any]
"""``NDJSONRequest -> ASGIApp`` (or an awaitable of one)."""


def records_from_json(raw: str) -> list[Any]:
    """The records of ``records=JSON``: a JSON array (NaN and infinities refused)."""

    def refuse_constant(name: str) -> Any:
        raise ValueError(f"records: {name} is not JSON")

    value = json.loads(raw, parse_constant=refuse_constant)
    if not isinstance(value, list):
        raise ValueError("records is a JSON array")
    if len(value) > MAX_RECORDS:
        raise ValueError(f"records holds at most {MAX_RECORDS} records")
    return value


async def _failing(records: AsyncIterator[Any], after: int | None) -> AsyncIterator[Any]:
    """*records*, raising :class:`RecordsFailed` once *after* of them have been handed over."""
    count = 0
    async for record in records:
        if after is not None and count == after:
            raise RecordsFailed(f"failed after {count} records, as requested")
        count += 1
        yield record
    if after is not None and count == after:
        raise RecordsFailed(f"failed after {count} records, as requested")


def build_router(factory: NDJSONFactory | None, observations: Observations) -> APIRouter:
    """The NDJSON routes when *factory* is supplied (none otherwise); the cursor's
    records go to *observations* (``GET /conformance/observe?id=ID``)."""
    router = APIRouter()
    if factory is None:
        return router

    @router.get(NDJSON_PATH)
    async def ndjson(
        request: Request,
        records: str = Query("[]"),
        gate: str | None = Query(None),
        fail_after: int | None = Query(None, ge=0),
    ) -> Response:
        """Stream the records the suite asked for, each as it is made."""
        try:
            chosen = records_from_json(records)
        except ValueError as error:
            return PlainTextResponse(f"refused: {error}\n", status_code=400)
        claimed = claim_or_refuse(request, gate)
        if isinstance(claimed, Response):
            return claimed
        body = _failing(gated(chosen, claimed, registry_of(request)), fail_after)
        asked = NDJSONRequest(records=body, media_type=NDJSON_TYPE, scope=request.scope)
        app: Callable[[NDJSONRequest], ASGIApp] = factory
        return await respond(app, asked)

    @router.get(NDJSON_PATH + "/cursor")
    async def cursor(
        request: Request, id: str = Query(..., min_length=1, max_length=100)
    ) -> Response:
        """Stream the rows of an endless SQLite query (:mod:`spec.kit.cursor`) as records."""
        asked = NDJSONRequest(
            records=rows(observations.new(id)), media_type=NDJSON_TYPE, scope=request.scope
        )
        app: Callable[[NDJSONRequest], ASGIApp] = factory
        return await respond(app, asked)

    return router
