"""Read a response off a raw TCP connection, parsed by h11, its framing kept.

httpx hides the transfer coding: it cannot say whether a chunked body ended
with its last chunk, nor where the server's chunks began. Here the request
goes out through an anyio TCP stream and the answer is parsed by h11, which
validates the framing (a malformed chunk, or a connection closed before the
last chunk, is a protocol error) and reports chunk boundaries. Every byte
received is kept too, as it came (``RawResponse.raw``).

The request target goes out exactly as written (:func:`raw_fetch` takes it as
bytes): httpx would normalize it (remove ``..`` segments, re-encode percent
signs), which the FILE chapter's hostile names must not be.

A base URL with a path (the target's prefix, ``http://127.0.0.1:8000/base``)
puts every request target below it: ``GET /base/conformance/sse``.

h11 only writes HTTP/1.1 requests; an HTTP/1.0 request
(``open_raw(..., http_version="1.0")``) is written by hand, and h11 still
parses the answer (the client side's state is advanced as if it had sent it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import unquote, urlencode, urlsplit

import anyio
import anyio.abc
import h11

from spec import repeat, witness
from spec.rules import not_applicable, violation
from spec.streams import Fetched
from spec.targets.client import speaks_http2

Params = Sequence[tuple[str, str]]


class WireError(AssertionError):
    """The response broke HTTP/1.1 framing, or the connection ended inside it."""


@dataclass
class RawResponse:
    """One response read off the wire.

    Attributes:
        http_version: the version the status line names (``b"1.1"``).
        body: the body bytes received so far, the transfer coding removed.
        raw: every byte received for this response so far, framing included.
        chunks: how many chunks of the chunked coding began so far.
        complete: the end of the message was read (for chunked: its last chunk).
    """

    status: int = 0
    http_version: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    raw: bytes = b""
    chunks: int = 0
    complete: bool = False

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((value for key, value in self.headers if key == name), None)

    @property
    def chunked(self) -> bool:
        coding = self.header("transfer-encoding") or ""
        return coding.lower().split(",")[-1].strip() == "chunked"


class RawExchange:
    """A request sent on its own TCP connection and its response, read as it arrives."""

    def __init__(
        self, stream: anyio.abc.ByteStream, host: str, path: str = "", prefix: str = ""
    ) -> None:
        self._stream = stream
        self._host = host
        self._path = path
        self._prefix = prefix
        self._connection = h11.Connection(h11.CLIENT)
        self.response = RawResponse()

    async def _send(self, *events: h11.Event) -> None:
        for event in events:
            data = self._connection.send(event)
            if data:
                await self._stream.send(data)

    async def _next_event(self) -> h11.Event | type[h11.NEED_DATA] | type[h11.PAUSED]:
        while True:
            try:
                event = self._connection.next_event()
            except h11.RemoteProtocolError as error:
                raise WireError(f"malformed response: {error}") from error
            if event is not h11.NEED_DATA:
                return event
            try:
                data = await self._stream.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError, ConnectionError):
                data = b""
            self.response.raw += data
            self._connection.receive_data(data)

    async def _step(self) -> None:
        event = await self._next_event()
        response = self.response
        if isinstance(event, h11.Response):
            response.status = event.status_code
            witness.record(self._path, event.status_code)
            response.http_version = bytes(event.http_version)
            response.headers = [
                (bytes(name).decode("latin-1").lower(), bytes(value).decode("latin-1"))
                for name, value in event.headers
            ]
        elif isinstance(event, h11.Data):
            response.body += bytes(event.data)
            response.chunks += int(event.chunk_start)
        elif isinstance(event, h11.EndOfMessage):
            response.complete = True
        elif isinstance(event, h11.ConnectionClosed):
            raise WireError("the connection closed before the response ended")

    async def head(self) -> RawResponse:
        """Read until the status line and headers have arrived."""
        while not self.response.status:
            await self._step()
        return self.response

    async def body_until(self, size: int) -> bytes:
        """Read until at least *size* body bytes have arrived (or the body ended)."""
        await self.head()
        while len(self.response.body) < size and not self.response.complete:
            await self._step()
        return self.response.body

    async def again(self, method: str, target: str) -> RawResponse | None:
        """Send a second request on the same connection and read its response to the end.

        *target* is put below the base URL's path, as the first request's was.

        Bytes the server sent after the end of the first response (past its
        Content-Length, or after its last chunk) make this response malformed:
        WireError. ``None`` when the server does not keep the connection open.
        """
        connection = self._connection
        if connection.our_state is not h11.DONE or connection.their_state is not h11.DONE:
            return None
        connection.start_next_cycle()
        self.response = RawResponse()
        target = self._prefix + target
        self._path = target
        repeat.note(method, f"http://{self._host}{target}", same_connection=True)
        try:
            await self._send(
                h11.Request(method=method, target=target, headers=[("Host", self._host)]),
                h11.EndOfMessage(),
            )
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, ConnectionError):
            return None
        try:
            return await self.to_end()
        except WireError:
            # (read again: the state has moved on since the check above)
            if self._connection.their_state is h11.CLOSED and not self.response.status:
                return None
            raise

    async def to_end(self) -> RawResponse:
        """Read the whole response; raise WireError if its framing breaks or it is cut."""
        await self.head()
        while not self.response.complete:
            await self._step()
        return self.response


@asynccontextmanager
async def open_raw(
    base_url: str,
    method: str,
    path: str | bytes,
    *,
    params: Params = (),
    body: bytes = b"",
    headers: Sequence[tuple[str, str]] = (),
    http_version: str = "1.1",
) -> AsyncIterator[RawExchange]:
    """Send one request to *base_url* (``http://host:port``) on a new connection.

    The request target is *path* as written, below the base URL's path if it
    has one (``http://host:port/base``), then ``?`` and *params* URL-encoded.

    *http_version* is ``"1.1"`` or ``"1.0"``; an HTTP/1.0 request asks for
    nothing the version cannot say (no keep-alive), so its answer ends when
    the server closes the connection or at its Content-Length.

    Over HTTP/2 (``--http=2``) the calling check is not applicable: what it reads
    is HTTP/1's framing (chunked coding, a close-delimited body, HTTP/1.0), which
    HTTP/2 replaces with frames (RFC 9113 §8.1); the chapter "HTTP/2" reads those.
    """
    if speaks_http2():
        not_applicable(
            "the check reads HTTP/1.1 framing on a raw connection (chunked coding, "
            "close-delimited bodies, HTTP/1.0); over HTTP/2 a body is carried in DATA "
            "frames and ended by END_STREAM or RST_STREAM (RFC 9113 §8.1): see HTTP2-*"
        )
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    prefix = base_path(base_url)
    target = (
        prefix.encode("ascii")
        + (path if isinstance(path, bytes) else path.encode("ascii"))
        + (f"?{urlencode(list(params))}".encode("ascii") if params else b"")
    )
    request_headers = [("Host", f"{host}:{port}"), *headers]
    if body or method.upper() in {"POST", "PUT"}:
        request_headers.append(("Content-Length", str(len(body))))
    request = h11.Request(method=method.upper(), target=target, headers=request_headers)
    repeat.note(
        method,
        f"{parts.scheme or 'http'}://{host}:{port}{target.decode('latin-1')}",
        headers,
        body,
        http_version=http_version,
    )
    async with await anyio.connect_tcp(host, port) as stream:
        exchange = RawExchange(stream, f"{host}:{port}", unquote(target.decode("latin-1")), prefix)
        events = [request, *([h11.Data(data=body)] if body else []), h11.EndOfMessage()]
        if http_version == "1.1":
            await exchange._send(*events)
        elif http_version == "1.0":
            for event in events:
                exchange._connection.send(event)
            await stream.send(_http10_request(method.upper(), target, request_headers) + body)
        else:
            raise ValueError(f"http_version is 1.1 or 1.0, not {http_version!r}")
        yield exchange


def base_path(base_url: str) -> str:
    """The path of *base_url* without its trailing slash: the target's prefix, or ``""``."""
    return urlsplit(base_url).path.rstrip("/")


def _http10_request(method: str, target: bytes, headers: Sequence[tuple[str, str]]) -> bytes:
    lines = [f"{method} {target.decode('latin-1')} HTTP/1.0"]
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


READ_GUARD_SECONDS = 30.0
"""How long :func:`read_whole` waits for a whole response (a hang guard)."""


async def read_whole(
    base_url: str,
    method: str,
    path: str,
    params: Params = (),
    body: bytes = b"",
    *,
    then_again: bool = False,
    http_version: str = "1.1",
) -> RawResponse:
    """Read one whole response off a raw socket; a framing error is a RuleViolation.

    With *then_again*, a second request (``GET`` of the same *path*, no
    parameters) follows on the same connection: anything the server sent
    after the end of the first response would spoil the second one.
    """
    what = f"the HTTP/{http_version} response to {method} {path} on the wire"
    with anyio.fail_after(READ_GUARD_SECONDS):
        async with open_raw(
            base_url, method, path, params=params, body=body, http_version=http_version
        ) as raw:
            try:
                response = await raw.to_end()
            except WireError as error:
                violation(
                    what,
                    "a complete HTTP message",
                    f"{error}; received {len(raw.response.body)} body bytes",
                )
            if then_again:
                try:
                    await raw.again("GET", path)
                except WireError as error:
                    violation(
                        f"the next response on the connection after {what}",
                        "a well-formed response: nothing sent past the end of the first",
                        str(error),
                    )
    return response


async def raw_fetch(
    base_url: str, method: str, target: bytes, headers: Sequence[tuple[str, str]] = ()
) -> Fetched:
    """Send ``METHOD target HTTP/1.1``, *target* exactly as written, and read the whole response.

    The connection is closed after it. A response whose framing breaks after
    its head is returned ``aborted`` (``error`` says how); one that never
    starts raises WireError.
    """
    with anyio.fail_after(READ_GUARD_SECONDS):
        async with open_raw(
            base_url, method, target, headers=[("Connection", "close"), *headers]
        ) as raw:
            aborted, error = False, ""
            try:
                response = await raw.to_end()
            except WireError as broken:
                response = raw.response
                if not response.status:
                    raise
                aborted, error = True, str(broken)
    body = [response.body] if response.body else []
    return Fetched(response.status, response.headers, body, aborted=aborted, error=error)
