"""The kit on aiohttp: the whole conformance surface for an aiohttp app, its streams aiohttp's.

aiohttp is a server of its own, not an ASGI application, so the kit reaches
it through a bridge. :func:`application` returns an ``aiohttp.web.Application``
whose one route takes every request and hands it, as an ASGI request (the
scope made from what aiohttp parsed, the body read from ``request.content``),
to a :class:`~spec.kit.Kit`: everything the kit answers itself (the 4xx
refusals, gates, ``/conformance/observe``, the feed's POST, the capabilities,
204 stop) is the kit's answer, sent as an aiohttp ``web.Response``. The
streams are not the kit's: a factory made with :func:`handled` is an aiohttp
handler, called with the kit's request and aiohttp's own ``web.Request``,
and what it returns (a ``web.StreamResponse`` it has streamed, or a
``web.FileResponse`` for aiohttp to send) is the handler's answer, in the
handler's own task, exactly as a route of the app would answer::

    from spec.kit import SSE, Download, Stream
    from spec.kit.aiohttp_kit import application, handled

    app = application(stream=Stream(handled(text)), download=Download(handled(download)))
    web.run_app(app)

Nothing of the kit runs between aiohttp and the library once a factory has
been called: no ASGI message carries a byte of the stream, and the kit never
reads the connection (aiohttp's disconnect handling, its writer's back
pressure and its shutdown are what the suite judges).

Written by hand: no library runs an ASGI application's non-streaming answers
inside an aiohttp handler while leaving the handler's streaming to aiohttp
(an ASGI-in-aiohttp adapter such as aiohttp-asgi would put the ASGI layer
around the stream as well, which is what must be left out).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import unquote

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from multidict import CIMultiDict

from spec.kit.api import SSE, Download, Factory, Stream
from spec.kit.app import Kit
from spec.kit.chat import ChatFactory
from spec.kit.feed import FeedBackend
from spec.targets.asgi_types import ASGIApp, Message, Receive, Scope, Send

R = TypeVar("R")

Handler = Callable[[R, web.Request], Awaitable[web.StreamResponse]]
"""An aiohttp handler of one kit request: ``(kit request, aiohttp request) -> response``."""

EXCHANGE_KEY = "streamspec.kit.aiohttp"
"""The scope key under which the bridge passes its :class:`_Exchange` to :func:`handled`."""

_DROPPED = frozenset({"content-length", "connection"})
"""Headers of the kit's own answers that aiohttp writes itself (from the body, from
``force_close``)."""


KIT = web.AppKey("streamspec_kit", Kit)
"""Where :func:`application` keeps its :class:`~spec.kit.Kit`."""


def handled(handler: Handler[R]) -> Factory[R]:
    """A kit factory that answers its request with *handler* and aiohttp's request.

    The factory's ASGI application does not stream: it calls *handler* in the
    aiohttp handler's task and leaves its response for the bridge to return to
    aiohttp. It works only under :func:`application` (``LookupError`` elsewhere).
    """

    def factory(request: R) -> ASGIApp:
        async def answer(scope: Scope, receive: Receive, send: Send) -> None:
            exchange = scope.get(EXCHANGE_KEY)
            if not isinstance(exchange, _Exchange):
                raise LookupError("an aiohttp factory is served by spec.kit.aiohttp_kit only")
            exchange.answer = await handler(request, exchange.request)

        return answer

    return factory


def application(
    *,
    sse: SSE | None = None,
    stream: Stream | None = None,
    download: Download | None = None,
    chat: ChatFactory | None = None,
    feed: FeedBackend | None = None,
) -> web.Application:
    """An aiohttp app serving the kit's surface around the factories (made with :func:`handled`).

    *chat* is the chat factory (``POST /conformance/chat``), made with :func:`handled`.
    *feed* is the feed's backend, as :class:`~spec.kit.Kit` takes it (in memory by
    default; one on Redis for a service of several instances). ``app[KIT]`` is the
    :class:`~spec.kit.Kit` (its gates, observations and capabilities). Every path is
    the kit's: one it does not serve is its 404.
    """
    kit = Kit(sse=sse, stream=stream, download=download, chat=chat, feed=feed)
    app = web.Application()
    app[KIT] = kit

    async def bridge(request: web.Request) -> web.StreamResponse:
        exchange = _Exchange(request)
        scope = scope_of(request)
        scope[EXCHANGE_KEY] = exchange
        await kit(scope, exchange.receive, exchange.send)
        return exchange.response()

    app.router.add_route("*", "/{tail:.*}", bridge)
    return app


def scope_of(request: web.Request) -> Scope:
    """The ASGI scope of *request*, as uvicorn would make it from the same request head.

    The path is the request target's, percent-decoded as uvicorn decodes it
    (not aiohttp's normalised ``request.path``): a download's name reaches the
    library as the client wrote it.
    """
    target = request.raw_path if request.raw_path.startswith("/") else request.rel_url.raw_path_qs
    raw_path, _, query = target.partition("?")
    version = request.version
    transport = request.transport
    peer = transport.get_extra_info("peername") if transport is not None else None
    sock = transport.get_extra_info("sockname") if transport is not None else None
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": f"{version.major}.{version.minor}",
        "method": request.method,
        "scheme": request.scheme,
        "path": unquote(raw_path),
        "raw_path": raw_path.encode("utf-8", "surrogateescape"),
        "query_string": query.encode("utf-8", "surrogateescape"),
        "root_path": "",
        "headers": [(name.lower(), value) for name, value in request.raw_headers],
        "client": tuple(peer[:2]) if peer else None,
        "server": tuple(sock[:2]) if sock else None,
        "state": {},
    }


@dataclass(eq=False)
class _Exchange:
    """One request's traffic between aiohttp and the kit: the body in, the kit's answer out."""

    request: web.Request
    answer: web.StreamResponse | None = None
    status: int | None = None
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)
    _body_done: bool = False

    async def receive(self) -> Message:
        """The request body from aiohttp's ``request.content``, then nothing until cancelled
        (the kit never listens for a disconnect; a factory's response is aiohttp's)."""
        if self._body_done:
            await asyncio.Future()  # never set: the handler's cancellation ends it
        try:
            part = await self.request.content.readany()
        except (ConnectionError, HttpProcessingError):
            # The client left, or its body broke off (a malformed chunk): the kit answers
            # that as it answers a disconnect under ASGI, never with a 500.
            self._body_done = True
            return {"type": "http.disconnect"}
        more = bool(part) and not self.request.content.at_eof()
        self._body_done = not more
        return {"type": "http.request", "body": part, "more_body": more}

    async def send(self, message: Message) -> None:
        """Keep the kit's own answer (its responses are whole: a status line, one body)."""
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            self.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")

    def response(self) -> web.StreamResponse:
        """The factory's response, or the kit's answer as aiohttp's."""
        if self.answer is not None:
            return self.answer
        if self.status is None:
            raise RuntimeError("the kit answered nothing")
        headers: CIMultiDict[str] = CIMultiDict()
        close = False
        for raw_name, raw_value in self.headers:
            name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
            if name.lower() == "connection" and value.lower() == "close":
                close = True
            if name.lower() not in _DROPPED:
                headers.add(name, value)
        answer = web.Response(status=self.status, body=bytes(self.body), headers=headers)
        if close:
            answer.force_close()
        return answer
