"""The servers the SSE bench runs: one ASGI app per contender, each streaming the same events.

Every contender gets the same producer, an async generator that never awaits
and makes one :class:`~spec.sse.Event` of ``size`` bytes of data per item (the
fastest producer there is: what is measured is the response's work, not the
producer's), through its library's own SSE API, the peer's factory where the
project has one (``peers/``), with the settings an app would run with:

* ``reference``: :class:`~impl.sse.EventStreamResponse` as the reference app's
  surface builds it, with :class:`~impl.settings.Settings`' defaults
  (keep-alive 15 s, send timeout 30 s) and the app's shutdown notice;
  ``reference-bare`` is the same response with none of them (the defaults of
  ``EventStreamResponse`` itself); ``reference-every-N`` yields to the event
  loop every N events instead of every 16 (``checkpoint_every=N``: the
  price of ``CANCEL-PROMPT-01``'s bound, measured; ``reference-every-2`` is
  the reference before that bound went from 2 items to 16);
* ``starlette``: Starlette's ``StreamingResponse`` over bytes built by hand per
  event (``f"data: {data}\\n\\n"``), the floor any SSE library adds to;
* ``sse-starlette``: ``peers.sse_starlette`` (``EventSourceResponse``, ping 15 s,
  send timeout 30 s, its cooperative shutdown);
* ``fastapi``: ``peers.fastapi_sse`` (``fastapi.sse.EventSourceResponse`` from a
  path operation);
* ``tutorial``: ``peers.tutorial_published`` (the source document's
  ``StreamingResponse`` that polls ``request.is_disconnected()`` per event).

Paths: ``GET /sse?n=N&size=S`` streams N events then ends; ``GET /idle`` holds a
stream open with no event (its producer waits for ever), for the memory a
waiting client costs. Served by ``python -m bench.sse_apps CONTENDER --port P``
(uvicorn, one worker, 127.0.0.1). ``--impl-from DIR`` imports ``impl`` and
``spec`` from another checkout (``git archive main impl spec | tar -x -C DIR``),
so that one run measures two versions of the reference side by side; nothing
of them is imported before that option is read.
"""

# ruff: noqa: PLC0415 -- impl and spec are imported late on purpose: after --impl-from is read
from __future__ import annotations

import argparse
import inspect
import sys
from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import anyio
import uvicorn

if TYPE_CHECKING:
    from spec.kit import SSERequest
    from spec.sse import Event
    from spec.targets.asgi_types import ASGIApp, Receive, Scope, Send

Factory = Callable[["SSERequest"], Any]


async def events(count: int, size: int) -> AsyncIterator[Event]:
    """*count* events of *size* bytes of data, made one by one, never awaiting."""
    from spec.sse import Event

    payload = "x" * size
    for _ in range(count):
        yield Event(data=payload)


async def idle() -> AsyncIterator[Event]:
    """A producer that makes no event: it waits for ever, as on a feed with nothing new."""
    await anyio.sleep_forever()
    yield  # type: ignore[misc]  # pragma: no cover - never reached


def _reference(real_settings: bool, every: int | None = None) -> Factory:
    """The reference's response; *every*: ``checkpoint_every=`` (``None``: its default, and a
    version of the reference from before that option works too)."""
    from impl.lifecycle import ShutdownNotice
    from impl.settings import Settings
    from impl.sse import EventStreamResponse

    settings = Settings()
    notice = ShutdownNotice()
    options: dict[str, Any] = {} if every is None else {"checkpoint_every": every}

    def factory(request: SSERequest) -> ASGIApp:
        if not real_settings:
            return EventStreamResponse(request.events, **options)
        return EventStreamResponse(
            request.events,
            headers=request.headers,
            keepalive=settings.keepalive,
            shutdown=notice,
            send_timeout=settings.send_timeout,
            **options,
        )

    return factory


def _starlette() -> Factory:
    from starlette.responses import StreamingResponse

    def factory(request: SSERequest) -> ASGIApp:
        async def framed() -> AsyncIterator[bytes]:
            assert isinstance(request.events, AsyncIterator)
            async for event in request.events:
                yield f"data: {event.data}\n\n".encode()

        return StreamingResponse(framed(), media_type="text/event-stream")

    return factory


def _peer(module: str, attribute: str) -> Callable[[], Factory]:
    def load() -> Factory:
        factory: Factory = getattr(__import__(module, fromlist=[attribute]), attribute)
        return factory

    return load


def _tutorial() -> Factory:
    from peers.tutorial_published import document
    from spec.kit import routed

    return routed(document, "/events")


CONTENDERS: dict[str, Callable[[], Factory]] = {
    "reference": partial(_reference, True),
    "reference-bare": partial(_reference, False),
    **{f"reference-every-{n}": partial(_reference, True, n) for n in (1, 2, 16, 64)},
    "starlette": _starlette,
    "sse-starlette": _peer("peers.sse_starlette", "stream"),
    "fastapi": _peer("peers.fastapi_sse", "sse_factory"),
    "tutorial": _tutorial,
}
"""Each contender's factory of SSE responses, built when its server starts."""

#: The real settings, for the peers that take them: the reference app's (``Settings``' defaults).
KEEPALIVE = 15.0
SEND_TIMEOUT = 30.0


def build(contender: str) -> ASGIApp:
    """The ASGI app that serves ``/sse`` and ``/idle`` with *contender*'s responses."""
    from spec.kit import SSERequest

    factory = CONTENDERS[contender]()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        query = parse_qs(scope.get("query_string", b"").decode())
        if scope["path"] == "/idle":
            producer = idle()
        else:
            producer = events(int(query.get("n", ["1"])[0]), int(query.get("size", ["64"])[0]))
        request = SSERequest(
            events=producer,
            headers={},
            keepalive=KEEPALIVE,
            send_timeout=SEND_TIMEOUT,
            scope=scope,
        )
        response = factory(request)
        if inspect.isawaitable(response):
            response = await response
        await response(scope, receive, send)

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.sse_apps", description="Serve one SSE bench contender."
    )
    parser.add_argument("contender", choices=sorted(CONTENDERS))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--http", default="auto", choices=["auto", "h11", "httptools"], help="uvicorn's --http"
    )
    parser.add_argument(
        "--loop", default="auto", choices=["auto", "asyncio", "uvloop"], help="uvicorn's --loop"
    )
    parser.add_argument(
        "--impl-from",
        metavar="DIR",
        help="import impl/ and spec/ from this directory (another version of the reference)",
    )
    options = parser.parse_args(argv)
    if options.impl_from:
        sys.path.insert(0, options.impl_from)
    uvicorn.run(
        build(options.contender),
        host="127.0.0.1",
        port=options.port,
        http=options.http,
        loop=options.loop,
        log_level="warning",
        access_log=False,
        backlog=4096,
    )


if __name__ == "__main__":
    main()
