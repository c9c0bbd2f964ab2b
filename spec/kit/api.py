"""The kit's contract with an implementation: the requests it hands to factories, and the factories.

The kit (:mod:`spec.kit`) serves the whole conformance surface for an ASGI
app except the streaming itself. For each stream the suite asks for, it parses
and validates the request, builds the producer (instrumented: it records that
it started, how many items it made, and from its own ``finally`` that its
cleanup ran; gated where the suite asked for a gate), and hands it to a
*factory* that the implementation under test supplies, written in its own
library's API. The factory returns the ASGI application that streams it
(a Starlette or FastAPI ``Response`` is one); the kit calls it with the
request's scope, ``receive`` and ``send``. What reaches the wire, and how the
producer is stopped when the client leaves, is the library's own work.

A factory may be a plain callable (``request -> ASGIApp``) or one of the
option holders below (:class:`SSE`, :class:`Stream`, :class:`Download`) that
also say what the library can do; ``/conformance/capabilities`` is computed
from what was supplied, never written by hand.

For a framework whose responses are not ASGI applications (Django, Litestar,
Quart), :func:`routed` turns a route of the framework's own app into a
factory: the kit calls that app with the request's scope (path replaced), and
the route's handler finds the kit's request with :func:`request_of`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from spec.sse import Event
from spec.targets.asgi_types import ASGIApp, Message, Receive, Scope, Send

Body = AsyncIterator[str] | AsyncIterator[bytes] | Iterator[str] | Iterator[bytes]
"""A producer of chunks: async (awaiting between items, or never awaiting) or sync."""

Events = AsyncIterator[Event] | Iterator[Event]
"""A producer of SSE events: async (awaiting or never awaiting) or sync."""

StreamKind = Literal["text", "log", "bytes", "endless"]


@dataclass(frozen=True)
class SSERequest:
    """One SSE stream the suite asked for (``/conformance/sse``, a feed, or ``endless``).

    Attributes:
        events: the instrumented producer; write each event as the library writes
            it (``data``, ``event``, ``id``, ``retry``, ``comment``: the members
            of :class:`~spec.sse.Event` that are set). It may never end (a held
            stream): the library's keep-alive, disconnect and shutdown handling
            are what is judged.
        headers: extra response headers the suite asked for; send every one.
        keepalive: seconds between keep-alive comments; ``None``: the library's
            default; ``0``: none.
        send_timeout: seconds a single send may take before the stream is
            aborted; ``None``: the library's default.
        scope: the ASGI scope of the request.
        listed: the events *events* will make, when they are known before the
            stream starts (``/conformance/sse``; ``None`` for the feed and
            ``endless``), for a library that checks a response's events before
            sending anything: the kit refuses no event an encoder could
            mishandle (an id or type with CR or LF, an id with NUL), so that
            ``SSE-ENC-07`` and ``08`` judge the library. An addition to the
            contract (issue 12); a factory may ignore it.
    """

    events: Events
    headers: Mapping[str, str]
    keepalive: float | None
    send_timeout: float | None
    scope: Scope
    listed: tuple[Event, ...] | None = None


@dataclass(frozen=True)
class StreamRequest:
    """One plain stream the suite asked for: text, log lines, echoed bytes, or endless lines.

    Attributes:
        kind: which endpoint asked (``text``, ``log``, ``bytes``, ``endless``).
        body: the instrumented producer of chunks, each to be sent as it is made:
            for ``endless``, an async generator that awaits between items, one
            that never awaits, or a plain generator (which the library must
            iterate without blocking its event loop), as the suite asked.
            ``str`` chunks are encoded as UTF-8 by the library; log lines
            already end in ``\\n``.
        media_type: the Content-Type to send (``text/plain; charset=utf-8``,
            ``application/octet-stream``).
        headers: further headers to send as they are (``Cache-Control``, the
            suite's custom headers, ``Content-Length`` when the suite asked the
            length to be declared).
        send_timeout: as in :class:`SSERequest`.
        scope: the ASGI scope of the request.
    """

    kind: StreamKind
    body: Body
    media_type: str
    headers: Mapping[str, str]
    send_timeout: float | None
    scope: Scope


@dataclass(frozen=True)
class DownloadRequest:
    """One download of a conformance file.

    Attributes:
        root: the served root (an absolute path of a directory the kit made).
        name: the path below *root* the client asked for, URL-decoded, exactly as
            asked: it may be hostile (``../outside.txt``, a symlink out of the
            root, NUL). Resolving it safely is the library's job, as it is in
            the app: the FILE chapter judges it.
        filename: the name the suite asked to see in ``Content-Disposition``
            (``?as=``), or ``None`` for the library's default (the file's name).
        scope: the ASGI scope of the request (``method`` is ``GET`` or ``HEAD``,
            the headers hold any ``Range`` and conditionals).
        send_timeout: seconds a single send may take before the download is
            aborted (``?send_timeout=``); ``None``: the library's default. An
            addition to the contract (issue 14); a factory may ignore it, and
            ``CANCEL-SLOW-02`` then judges the library's default.
    """

    root: Path
    name: str
    filename: str | None
    scope: Scope
    send_timeout: float | None = None


R = TypeVar("R")
Factory = Callable[[R], ASGIApp | Awaitable[ASGIApp]]
"""Builds the ASGI application that answers one request (it may be a coroutine function)."""


@dataclass(frozen=True)
class SSE:
    """An SSE factory and what the library can do with it.

    Attributes:
        factory: ``SSERequest -> ASGIApp``.
        comments: it writes an event's ``comment`` (capability ``comments``).
        keepalive: it honours ``keepalive`` (with the kit's held streams: capability
            ``idle``).
        headers: it sends ``headers`` (capability ``headers``, with :class:`Stream`'s).
    """

    factory: Factory[SSERequest]
    comments: bool = True
    keepalive: bool = True
    headers: bool = True


@dataclass(frozen=True)
class Stream:
    """A factory of plain streams.

    Attributes:
        factory: ``StreamRequest -> ASGIApp``.
        kinds: the stream kinds it serves; the others go to another factory
            (endless lines to the SSE factory, one event a line) or are not
            served.
        headers: it sends ``headers``.
    """

    factory: Factory[StreamRequest]
    kinds: frozenset[StreamKind] = field(
        default_factory=lambda: frozenset({"text", "log", "bytes", "endless"})
    )
    headers: bool = True


@dataclass(frozen=True)
class Download:
    """A factory of file downloads: ``DownloadRequest -> ASGIApp``."""

    factory: Factory[DownloadRequest]


REQUEST_KEY = "streamspec.kit.request"
"""The scope key under which :func:`routed` passes the kit's request to the framework's app."""

BODY_READ_KEY = "streamspec.kit.body_read"
"""The scope key the kit sets once it has read the request's body from ``receive`` (``POST
/conformance/bytes``): the body is then in the kit's request, and :func:`routed` tells the
framework's app the body is empty and complete instead of letting it wait for one."""


def request_of(scope: Mapping[str, Any]) -> SSERequest | StreamRequest | DownloadRequest:
    """The kit's request that :func:`routed` put in *scope* (a framework handler calls this
    with its request's scope); ``LookupError`` if the request did not come from the kit."""
    try:
        request = scope[REQUEST_KEY]
    except KeyError:
        raise LookupError("this request did not come through the streamspec kit") from None
    if not isinstance(request, (SSERequest, StreamRequest, DownloadRequest)):
        raise LookupError(f"{REQUEST_KEY} holds {type(request).__name__}, not a kit request")
    return request


def routed(app: ASGIApp, path: str) -> Callable[[Any], ASGIApp]:
    """A factory that answers the kit's request with *app*'s route at *path*.

    The returned factory, given a kit request, returns an ASGI application that
    calls *app* with a copy of the request's scope whose ``path`` is *path*
    (``raw_path`` and ``root_path`` to match, the query string kept) and whose
    :data:`REQUEST_KEY` holds the kit's request. Where the kit has read the
    request's body (:data:`BODY_READ_KEY`), *app*'s first ``receive()`` returns an
    empty, complete body, and later ones are the server's (``http.disconnect``).
    *app* must have had its lifespan started if it needs one (the kit forwards
    lifespan events to its ``app=``).
    """

    def factory(request: Any) -> ASGIApp:
        async def call(scope: Scope, receive: Receive, send: Send) -> None:
            inner = dict(scope)
            inner.update(path=path, raw_path=path.encode(), root_path="")
            inner[REQUEST_KEY] = request
            await app(inner, _after_body(receive) if scope.get(BODY_READ_KEY) else receive, send)

        return call

    return factory


def _after_body(receive: Receive) -> Receive:
    """*receive*, but its first message is an empty, complete ``http.request`` (the kit has
    already taken the body's messages from the server)."""
    told = False

    async def after_body() -> Message:
        nonlocal told
        if not told:
            told = True
            return {"type": "http.request", "body": b"", "more_body": False}
        return await receive()

    return after_body
