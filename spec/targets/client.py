"""One way for checks to request a stream, whatever carries it.

A check asks a :class:`StreamClient` for a response and reads its body chunk by
chunk; the fixture ``stream_client`` hands it each transport in turn:

* ``asgi``: the app is called in-process through :mod:`spec.targets.harness`;
  a chunk is the body of one ``http.response.body`` message.
* ``socket``: a real uvicorn (or any server) is read over a TCP connection on
  127.0.0.1 with httpx; a chunk is what one read of the socket returned, after
  the transfer coding is removed. Over HTTP/1.1, or over HTTP/2 (h2c with prior
  knowledge) once the run speaks it (``--http=2``, :func:`speak_http`).
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

import httpx

from spec import repeat, witness
from spec.patience import guarded
from spec.targets import harness
from spec.targets.asgi_types import ASGIApp

Params = Sequence[tuple[str, str]]
Headers = Sequence[tuple[str, str]]

HEADERS_GUARD = 10.0
"""Seconds a request waits for the response's status and headers (a hang guard): a
correct target sends them at once, before any item exists; a target that holds them
back (until the body ends, say) fails the check that asked, naming the request."""

_HANG_GUARD = httpx.Timeout(30.0)
# httpx builds an SSL context for every client it makes (loading the CA bundle,
# a tenth of a second), even for plain HTTP; the socket client makes one per
# request, so it shares this one.
_SSL = ssl.create_default_context()


_SPOKEN = {"http": "1.1"}


def speak_http(version: str) -> None:
    """Make every httpx client of :func:`http_client` speak HTTP *version* from now on:
    ``"1.1"``, or ``"2"`` (h2c with prior knowledge: no ``Upgrade``, the preface at once).

    Set once a run, by the ``target`` fixture, from ``--http``.
    """
    if version not in ("1.1", "2"):
        raise ValueError(f"HTTP version {version!r}: expected 1.1 or 2")
    _SPOKEN["http"] = version


def speaks_http2() -> bool:
    """Whether the run's wire-level checks speak HTTP/2 (``--http=2``)."""
    return _SPOKEN["http"] == "2"


class StreamedResponse(Protocol):
    """A response whose body is read as it arrives."""

    @property
    def status(self) -> int: ...

    @property
    def headers(self) -> list[tuple[str, str]]:
        """Header fields in order, names lower-cased."""
        ...

    def chunks(self) -> AsyncIterator[bytes]:
        """Yield the body as it arrives, until the end of the response."""
        ...


class StreamClient(Protocol):
    """Requests a stream from the target over one transport."""

    transport: str

    def stream(
        self,
        method: str,
        path: str,
        *,
        params: Params = (),
        headers: Headers = (),
        body: bytes = b"",
    ) -> AbstractAsyncContextManager[StreamedResponse]:
        """The response, its body unread, while the ``async with`` block runs."""
        ...


@dataclass
class _AsgiResponse:
    exchange: harness.Exchange

    @property
    def status(self) -> int:
        return self.exchange.status

    @property
    def headers(self) -> list[tuple[str, str]]:
        return self.exchange.headers

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body messages' bytes; a body the app leaves unfinished ends in ProtocolError.

        An app that raises mid-stream and one that returns without its final
        body message (``more_body`` false) leave the body unfinished alike: a
        server aborts the connection for both, and the client sees no end.
        """
        async for message in self.exchange.iter_body():
            body = bytes(message.get("body", b""))
            if body:
                yield body
        if any(not m.get("more_body", False) for m in self.exchange.body_messages):
            return
        if self.exchange.app_error is not None:
            raise harness.ProtocolError(
                f"the app raised mid-stream: {self.exchange.app_error!r}"
            ) from self.exchange.app_error
        raise harness.ProtocolError("the app returned without its final body message")


@dataclass
class AsgiClient:
    """Calls the ASGI app in-process, one :mod:`~spec.targets.harness` exchange a request.

    Each request's path is put below *prefix*, the target's base path (``/base``).
    """

    app: ASGIApp
    transport: str = "asgi"
    prefix: str = ""

    @asynccontextmanager
    async def stream(
        self,
        method: str,
        path: str,
        *,
        params: Params = (),
        headers: Headers = (),
        body: bytes = b"",
    ) -> AsyncIterator[StreamedResponse]:
        scope = harness.build_scope(
            method, path, params=params, headers=headers, prefix=self.prefix
        )
        async with harness.exchange(self.app, scope, body=body) as exchange:
            with guarded(
                f"the status and headers answering {method} {path}", HEADERS_GUARD, "headers"
            ):
                await exchange.wait_start()
            yield _AsgiResponse(exchange)


@dataclass
class _SocketResponse:
    response: httpx.Response
    _raw: AsyncIterator[bytes] | None = None

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def headers(self) -> list[tuple[str, str]]:
        return [(name.lower(), value) for name, value in self.response.headers.multi_items()]

    async def chunks(self) -> AsyncIterator[bytes]:
        # One raw iterator for the response's life: reading may stop and resume.
        if self._raw is None:
            self._raw = self.response.aiter_raw()
        async for chunk in self._raw:
            if chunk:
                yield chunk


def http_client(
    base_url: str,
    *,
    timeout: float | httpx.Timeout = _HANG_GUARD,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """An httpx client for the target at *base_url* whose answers count as evidence.

    A base URL with a path (the target's prefix, ``http://127.0.0.1:8000/base``)
    puts every request's path below it, as httpx merges a relative URL.

    Every check that reads the target with httpx uses one of these, so that a
    pass it reports was earned (:mod:`spec.witness`). It speaks the run's HTTP
    version (:func:`speak_http`): HTTP/2 only, with prior knowledge, when it is 2.
    """
    http2 = speaks_http2()
    return httpx.AsyncClient(
        base_url=base_url,
        http1=not http2,
        http2=http2,
        timeout=timeout,
        verify=_SSL,
        transport=transport,
        event_hooks={**witness.HTTPX_HOOKS, "request": [_note_request]},
    )


_ADDED_BY_EVERY_CLIENT = frozenset({"host", "content-length", "connection", "user-agent"})


def _httpx_defaults() -> httpx.Headers:
    """The fields httpx puts on every request (``Accept``, ``Accept-Encoding``: what its
    installed decoders read), made without a network or an SSL context."""
    with httpx.Client(transport=httpx.MockTransport(lambda _: httpx.Response(200))) as client:
        return httpx.Headers(client.headers)


_HTTPX_DEFAULTS = _httpx_defaults()


async def _note_request(request: httpx.Request) -> None:
    """Note *request* for its ``curl`` command (:mod:`spec.repeat`), with the fields the
    check chose: not those httpx adds to every request."""
    headers = [
        (name, value)
        for name, value in request.headers.multi_items()
        if name.lower() not in _ADDED_BY_EVERY_CLIENT and _HTTPX_DEFAULTS.get(name) != value
    ]
    try:
        body = request.content
    except httpx.RequestNotRead:
        body = b""
    version = "2" if speaks_http2() else "1.1"
    repeat.note(request.method, str(request.url), headers, body, http_version=version)


@dataclass
class SocketClient:
    """Reads from a server over real TCP with httpx (no content decoding)."""

    base_url: str
    transport: str = "socket"

    @asynccontextmanager
    async def stream(
        self,
        method: str,
        path: str,
        *,
        params: Params = (),
        headers: Headers = (),
        body: bytes = b"",
    ) -> AsyncIterator[StreamedResponse]:
        async with (
            http_client(self.base_url) as client,
            AsyncExitStack() as stack,
        ):
            with guarded(
                f"the status and headers answering {method} {path}", HEADERS_GUARD, "headers"
            ):
                response = await stack.enter_async_context(
                    client.stream(
                        method, path, params=list(params), headers=list(headers), content=body
                    )
                )
            yield _SocketResponse(response)
