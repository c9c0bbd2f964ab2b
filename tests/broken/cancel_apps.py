"""Apps whose streams break the CANCEL chapter, each in ways tutorial code does.

They serve the conformance surface with the reference app's instrumented
producers and observations (the thing under test is the response around the
producer, not the producer), and differ from the reference in one choice each:

* ``plain``: Starlette's ``StreamingResponse``. Its disconnect listener never
  runs while the producer and ``send`` never yield, and it never closes a sync
  generator, so that generator's ``finally`` never runs. No send timeout, no
  keep-alive; HEAD starts the producer.
* ``unwatched``: a hand-written ASGI loop that never calls ``receive``: a
  producer blocked on its own I/O is never told the client left.
* ``polling``: the source document's shape, ``await request.is_disconnected()``
  before every item (one ``receive`` round trip per item).
* ``swallowing``: catches the producer's exception and ends the body cleanly,
  so the client takes a truncated body for a complete one.
* ``leaking``: starts a keep-alive task with ``asyncio.ensure_future`` and
  never cancels it.
* ``no_ids``: its resumable feed sends events without ids.
* ``no_gap``: its feed resumes a client it cannot serve from the oldest event
  it holds, without saying that events were lost.
* ``busy_keepalive``: a keep-alive loop (``sleep(interval)``, then a comment)
  that, with interval 0, sends comments as fast as it can.

And one built with an argument, not in :data:`VARIANTS` (which
``tests/test_cancel_fails.py`` runs every CANCEL check against):
``cancel_app("late", late_by=N)`` hears the disconnect at once, then asks its
producer for exactly N more items before it closes it, whatever the kind of
producer and wherever the disconnect falls: the edge of ``CANCEL-PROMPT-01``'s
bound, each side of it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from typing import Any

import anyio
import anyio.lowlevel
import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from spec.kit.feed import GAP, Feed
from spec.kit.observations import Observations
from spec.kit.producers import Plan, produce
from spec.sse import Event, encode, encode_comment
from spec.surface import (
    CAPABILITIES_PATH,
    ENDLESS_PATH,
    FEED_PATH,
    OBSERVE_PATH,
    SSE_PATH,
    event_from_json,
)

VARIANTS = (
    "plain",
    "unwatched",
    "polling",
    "swallowing",
    "leaking",
    "no_ids",
    "no_gap",
    "busy_keepalive",
)
#: The variants that take an argument (see the module docstring).
ARGUMENT_VARIANTS = ("late",)


class _Unwatched(Response):
    """Streams without ever calling ``receive``: it cannot hear the client leave."""

    def __init__(self, content: AsyncIterator[bytes] | Iterator[bytes]) -> None:
        self.content = content
        super().__init__(media_type="text/plain")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        if isinstance(self.content, AsyncIterator):
            async for chunk in self.content:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        else:
            for chunk in self.content:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


class _Late(Response):
    """Asks its producer for *extra* more items once it has heard the disconnect.

    A watcher task waits on ``receive``; the stream yields to the event loop after each
    item, so the watcher has run before the next item is asked for, and exactly *extra*
    items are asked for after the disconnect was delivered (their sends are ignored, as
    uvicorn ignores them). Then the producer is closed and the body finished.
    """

    def __init__(self, content: AsyncIterator[bytes] | Iterator[bytes], extra: int) -> None:
        self.content = content
        self.extra = extra
        super().__init__(media_type="text/plain")

    async def _next(self) -> bytes | None:
        if isinstance(self.content, AsyncIterator):
            return await anext(self.content, None)
        return await anyio.to_thread.run_sync(next, self.content, None)

    async def _close(self) -> None:
        if isinstance(self.content, AsyncGenerator):
            await self.content.aclose()
        elif isinstance(self.content, Generator):
            await anyio.to_thread.run_sync(self.content.close)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        gone = anyio.Event()

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()

        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(watch)
                left: int | None = None  # items still to ask for, once the client has gone
                while left != 0:
                    chunk = await self._next()
                    if chunk is None:
                        break
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                    await anyio.lowlevel.checkpoint()
                    if left is not None:
                        left -= 1
                    elif gone.is_set():
                        left = self.extra
                group.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                await self._close()
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _polling(request: Request, content: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    async for chunk in content:
        if await request.is_disconnected():
            break
        yield chunk


async def _swallowing(content: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    try:
        async for chunk in content:
            yield chunk
    except Exception:
        return


async def _leaking(content: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    async def ping_forever() -> None:
        await anyio.sleep_forever()

    asyncio.ensure_future(ping_forever())  # noqa: RUF006 - never cancelled: the leak
    async for chunk in content:
        yield chunk


def cancel_app(variant: str, *, feed_capacity: int = 64, late_by: int = 0) -> Starlette:
    """The surface served the *variant* way (see the module docstring).

    Its feeds hold their last *feed_capacity* events; *late_by* is the ``late`` variant's
    count of items asked for after the disconnect.
    """
    if variant not in VARIANTS + ARGUMENT_VARIANTS:
        raise ValueError(variant)
    observations = Observations()
    feeds: dict[str, Feed] = {}

    async def endless(request: Request) -> Response:
        query = request.query_params
        plan = Plan(
            kind=query.get("kind", "async"),
            limit=int(query["limit"]) if "limit" in query else None,
            hold=int(query["hold"]) if "hold" in query else None,
            fail=int(query["fail"]) if "fail" in query else None,
            size=int(query.get("size", 0)),
        )
        content: Any = produce(plan, observations.new(query["id"]))
        if variant == "unwatched":
            return _Unwatched(content)
        if variant == "late":
            return _Late(content, late_by)
        if variant == "polling" and plan.kind != "sync":
            content = _polling(request, content)
        elif variant == "swallowing" and plan.kind != "sync":
            content = _swallowing(content)
        elif variant == "leaking" and plan.kind != "sync":
            content = _leaking(content)
        return StreamingResponse(content, media_type="text/plain")

    async def observe(request: Request) -> Response:
        record = observations.get(request.query_params["id"])
        if record is None:
            return JSONResponse({}, status_code=404)
        until = request.query_params.get("until")
        if until is not None:
            event = record.started if until == "started" else record.cleanup
            wait = float(request.query_params.get("timeout", "10"))
            with anyio.move_on_after(wait):
                await event.wait()
        return JSONResponse(record.as_json())

    async def sse(request: Request) -> Response:
        events = [event_from_json(m) for m in json.loads(request.query_params["events"])]
        hold = request.query_params.get("hold") == "true"
        interval = float(request.query_params.get("keepalive", "15"))

        async def body() -> AsyncIterator[bytes]:
            for event in events:
                yield encode(event)
            while hold:
                if variant == "busy_keepalive":
                    await anyio.sleep(interval)
                    yield encode_comment("ping")
                else:
                    await anyio.sleep_forever()

        return StreamingResponse(body(), media_type="text/event-stream")

    async def feed(request: Request) -> Response:
        name = request.path_params["name"]
        if request.method == "POST":
            chosen = feeds.setdefault(name, Feed(feed_capacity))
            ids = [chosen.publish(d) for d in json.loads(await request.body())]
            return JSONResponse({"ids": [str(i) for i in ids]})
        if name not in feeds:
            return PlainTextResponse("no such feed", status_code=404)

        async def body() -> AsyncIterator[bytes]:
            async for event in feeds[name].subscribe(request.headers.get("last-event-id")):
                if variant == "no_ids":
                    event = Event(data=event.data, event=event.event)  # noqa: PLW2901
                if variant == "no_gap" and event.event == GAP:
                    continue
                yield encode(event)

        return StreamingResponse(body(), media_type="text/event-stream")

    async def capabilities(request: Request) -> Response:
        declared = ("sse", "idle", "endless", "feed", "observe")
        return JSONResponse(dict.fromkeys(declared, True))

    return Starlette(
        routes=[
            Route(CAPABILITIES_PATH, capabilities),
            Route(ENDLESS_PATH, endless),
            Route(OBSERVE_PATH, observe),
            Route(SSE_PATH, sse),
            Route(FEED_PATH + "/{name}", feed, methods=["GET", "POST"]),
        ]
    )


plain = cancel_app("plain")
polling = cancel_app("polling")
no_ids = cancel_app("no_ids")
busy_keepalive = cancel_app("busy_keepalive")
