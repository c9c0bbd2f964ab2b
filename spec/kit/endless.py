"""``GET /conformance/endless`` and ``GET /conformance/observe`` (chapter CANCEL).

Moved from the reference app (``impl/surface_streams.py``). The endless
producers (:mod:`spec.kit.producers`, of every kind: async, busy, sync) report
to their :class:`~spec.kit.observations.Record`; the record is made as soon as
the request is accepted, GET or HEAD, before any producer starts, so that a
HEAD the library answers without starting its producer is observable
(``CANCEL-HEAD-01``). What stops the producer when the client leaves is the
library's: the kit hands the producer to the Stream factory (when it serves
``endless``), or else, or when asked ``form=sse``, to the SSE factory, one event
a line (the data is the line without its LF), keeping the producer's kind (an
async producer stays async, a busy one never awaits, a sync one stays a plain
generator).

Written by hand: the observation records are streamspec's own protocol.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import anyio
from fastapi import APIRouter, Query, Request
from starlette.responses import JSONResponse, Response

from spec.kit.api import Events, SSERequest, StreamRequest
from spec.kit.factories import Factories, respond
from spec.kit.observations import Observations
from spec.kit.producers import Plan, produce
from spec.kit.streams import NO_CACHE, TEXT_TYPE, refuse
from spec.sse import Event
from spec.surface import ENDLESS_PATH, OBSERVE_PATH

_LONG_POLL_SECONDS = 10.0


def as_events(lines: AsyncIterator[bytes] | Iterator[bytes]) -> Events:
    """*lines* as SSE events, one a line, of the same kind; closing the result closes *lines*."""
    if isinstance(lines, AsyncIterator):
        return _async_events(lines)
    return _sync_events(lines)


def _event(line: bytes) -> Event:
    return Event(data=line.decode("ascii").removesuffix("\n"))


async def _async_events(lines: AsyncIterator[bytes]) -> AsyncIterator[Event]:
    try:
        async for line in lines:  # a busy producer never awaits: neither does this
            yield _event(line)
    finally:
        aclose = getattr(lines, "aclose", None)
        if aclose is not None:
            await aclose()


def _sync_events(lines: Iterator[bytes]) -> Iterator[Event]:
    try:
        for line in lines:
            yield _event(line)
    finally:
        close = getattr(lines, "close", None)
        if close is not None:
            close()


def build_router(supplied: Factories, observations: Observations) -> APIRouter:
    """The routes, when *supplied* can stream endless lines (else none)."""
    router = APIRouter()
    by_stream = supplied.streams("endless")
    if not by_stream and supplied.sse is None:
        return router

    @router.api_route(ENDLESS_PATH, methods=["GET", "HEAD"])
    async def endless(
        request: Request,
        *,
        id: str = Query(..., min_length=1, max_length=100),
        kind: str = Query("async"),
        limit: int | None = Query(None, ge=0),
        hold: int | None = Query(None, ge=0),
        fail: int | None = Query(None, ge=0),
        size: int = Query(0, ge=0, le=1 << 20),
        send_timeout: float | None = Query(None, gt=0),
        form: str | None = Query(None),
    ) -> Response:
        """Numbered lines from an instrumented producer of the kind asked, for ever or to limit,
        as text, or as SSE events when asked (``form=sse``) or when no Stream factory serves
        them."""
        if form not in (None, "text", "sse"):
            return refuse(400, ValueError(f"form must be text or sse, not {form!r}"))
        plan = Plan(kind=kind, limit=limit, hold=hold, fail=fail, size=size)
        record = observations.new(id)
        try:
            producer = produce(plan, record)
        except ValueError as error:
            return refuse(400, error)
        as_sse = supplied.sse is not None and (form == "sse" or not by_stream)
        if not as_sse and supplied.stream is not None:
            asked = StreamRequest(
                kind="endless",
                body=producer,
                media_type=TEXT_TYPE,
                headers=dict(NO_CACHE),
                send_timeout=send_timeout,
                scope=request.scope,
            )
            return await respond(supplied.stream.factory, asked)
        assert supplied.sse is not None
        events = SSERequest(
            events=as_events(producer),
            headers={},
            keepalive=None,
            send_timeout=send_timeout,
            scope=request.scope,
        )
        return await respond(supplied.sse.factory, events)

    @router.get(OBSERVE_PATH)
    async def observe(
        id: str = Query(..., min_length=1, max_length=100),
        until: str | None = Query(None, pattern="^(started|cleanup)$"),
        wait_seconds: float = Query(
            _LONG_POLL_SECONDS, gt=0, le=_LONG_POLL_SECONDS, alias="timeout"
        ),
    ) -> Response:
        """What the producer recorded under *id*, once *until* holds (or the timeout passed)."""
        record = observations.get(id)
        if record is None:
            return JSONResponse({"error": f"no stream with id {id!r}"}, status_code=404)
        if until is not None:
            event = record.started if until == "started" else record.cleanup
            with anyio.move_on_after(wait_seconds):
                await event.wait()
        return JSONResponse(record.as_json())

    return router
