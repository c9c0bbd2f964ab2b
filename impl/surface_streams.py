"""The conformance surface for cancellation, cleanup and resuming (chapter CANCEL).

``GET /conformance/endless``, ``GET /conformance/observe`` and
``/conformance/feed/{name}``; their contract is in ``spec/chapters/surface.py``.
"""

from __future__ import annotations

import anyio
from fastapi import APIRouter, Query, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from impl.feed import Feed
from impl.lifecycle import ShutdownNotice
from impl.observations import Observations
from impl.producers import Plan, produce
from impl.settings import Settings
from impl.sse import EventStreamResponse
from impl.streaming import StreamResponse
from spec.surface import ENDLESS_PATH, FEED_PATH, OBSERVE_PATH, read_json

_LONG_POLL_SECONDS = 10.0
_FEED_CAPACITY = 64
_MAX_FEEDS = 256


def build_router(
    settings: Settings, observations: Observations, notice: ShutdownNotice
) -> APIRouter:
    """The routes, sharing the app's observations, feeds and shutdown notice."""
    router = APIRouter()
    feeds: dict[str, Feed] = {}

    @router.api_route(ENDLESS_PATH, methods=["GET", "HEAD"])
    async def endless(
        *,
        id: str = Query(..., min_length=1, max_length=100),
        kind: str = Query("async"),
        limit: int | None = Query(None, ge=0),
        hold: int | None = Query(None, ge=0),
        fail: int | None = Query(None, ge=0),
        size: int = Query(0, ge=0, le=1 << 20),
        send_timeout: float | None = Query(None, gt=0),
    ) -> Response:
        plan = Plan(kind=kind, limit=limit, hold=hold, fail=fail, size=size)
        record = observations.new(id)
        try:
            producer = produce(plan, record)
        except ValueError as error:
            return PlainTextResponse(f"refused: {error}\n", status_code=400)
        return StreamResponse(
            producer,
            media_type="text/plain; charset=utf-8",
            headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
            send_timeout=send_timeout or settings.send_timeout,
            shutdown=notice,
        )

    @router.get(OBSERVE_PATH)
    async def observe(
        id: str = Query(..., min_length=1, max_length=100),
        until: str | None = Query(None, pattern="^(started|cleanup)$"),
        wait_seconds: float = Query(
            _LONG_POLL_SECONDS, gt=0, le=_LONG_POLL_SECONDS, alias="timeout"
        ),
    ) -> Response:
        record = observations.get(id)
        if record is None:
            return JSONResponse({"error": f"no stream with id {id!r}"}, status_code=404)
        if until is not None:
            event = record.started if until == "started" else record.cleanup
            await anyio.to_thread.run_sync(event.wait, wait_seconds)
        return JSONResponse(record.as_json())

    @router.post(FEED_PATH + "/{name}")
    async def publish(name: str, request: Request) -> Response:
        try:
            data = read_json(await request.body(), "the body")
        except ValueError as error:
            return PlainTextResponse(f"refused: {error}\n", status_code=400)
        if not isinstance(data, list) or not all(isinstance(d, str) for d in data):
            return PlainTextResponse("refused: the body must be a JSON list of strings\n", 400)
        feed = feeds.get(name)
        if feed is None:
            if len(feeds) >= _MAX_FEEDS:
                feeds.pop(next(iter(feeds)))
            feed = feeds[name] = Feed(_FEED_CAPACITY)
        return JSONResponse({"ids": [str(feed.publish(d)) for d in data]})

    @router.api_route(FEED_PATH + "/{name}", methods=["GET", "HEAD"])
    async def subscribe(name: str, request: Request) -> Response:
        feed = feeds.get(name)
        if feed is None:
            return PlainTextResponse(f"no feed named {name!r}\n", status_code=404)
        return EventStreamResponse(
            feed.subscribe(request.headers.get("last-event-id")),
            keepalive=settings.keepalive,
            shutdown=notice,
            send_timeout=settings.send_timeout,
        )

    return router
