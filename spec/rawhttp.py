"""HTTP/1.1 written by hand over a TCP socket, and the answer read with h11.

httpx, the suite's usual client, hides what some rules are about: it removes
the transfer coding before a check sees the body, speaks only HTTP/1.1, and
normalizes a URL before sending it (removing ``..`` segments, re-encoding
percent signs). The checks that need the bytes as framed, an HTTP/1.0
request, or a request target exactly as written use this module instead. It
writes the request itself and parses the answer with h11, the sans-IO
HTTP/1.1 parser uvicorn also uses, which raises on any framing error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import anyio
import anyio.abc
import h11

from spec.streams import Fetched
from spec.targets.client import Params

_GUARD_SECONDS = 10.0


@dataclass
class RawResponse:
    """What the server sent, as bytes and as h11 events."""

    raw: bytes
    status: int = 0
    http_version: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    complete: bool = False
    error: str = ""

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((value for key, value in self.headers if key == name), None)


def request_bytes(url: str, path: str, params: Params = (), *, http_version: str = "1.1") -> bytes:
    """A GET request for *path* on *url* (``http://host:port``), asking the server to close."""
    host = urlsplit(url).netloc
    target = path + ("?" + urlencode(list(params)) if params else "")
    lines = [f"GET {target} HTTP/{http_version}", f"Host: {host}", "Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1")


async def exchange(url: str, request: bytes) -> bytes:
    """Send *request* to *url* and read until the server closes the connection."""
    parts = urlsplit(url)
    received = bytearray()
    with anyio.fail_after(_GUARD_SECONDS):
        async with await anyio.connect_tcp(parts.hostname or "127.0.0.1", parts.port or 80) as sock:
            await sock.send(request)
            while True:
                try:
                    received += await sock.receive()
                except (anyio.EndOfStream, anyio.BrokenResourceError):
                    break
    return bytes(received)


def parse(raw: bytes, *, method: bytes = b"GET") -> RawResponse:
    """Parse *raw* as the answer to one request; framing errors land in ``error``."""
    response = RawResponse(raw)
    connection = h11.Connection(h11.CLIENT)
    connection.send(h11.Request(method=method, target=b"/", headers=[(b"host", b"x")]))
    connection.send(h11.EndOfMessage())
    connection.receive_data(raw)
    connection.receive_data(b"")
    body = bytearray()
    try:
        while True:
            event = connection.next_event()
            if isinstance(event, h11.Response):
                response.status = event.status_code
                response.http_version = event.http_version
                response.headers = [
                    (name.decode("latin-1").lower(), value.decode("latin-1"))
                    for name, value in event.headers
                ]
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                response.complete = True
                break
            elif event is h11.NEED_DATA or isinstance(event, h11.ConnectionClosed):
                break
    except h11.RemoteProtocolError as error:
        response.error = f"h11: {error}"
    response.body = bytes(body)
    return response


# --- Request targets sent exactly as written (the FILE chapter) ---

_HANG_GUARD_SECONDS = 30.0
_READ_SIZE = 65536


async def raw_fetch(
    base_url: str, method: str, target: bytes, headers: Sequence[tuple[str, str]] = ()
) -> Fetched:
    """Send ``METHOD target HTTP/1.1`` to *base_url* and read the whole response."""
    url = urlsplit(base_url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    connection = h11.Connection(h11.CLIENT)
    request = h11.Request(
        method=method,
        target=target,
        headers=[("Host", f"{host}:{port}"), ("Connection", "close"), *headers],
    )
    with anyio.fail_after(_HANG_GUARD_SECONDS):
        async with await anyio.connect_tcp(host, port) as stream:
            await stream.send(connection.send(request) + connection.send(h11.EndOfMessage()))
            return await _read(stream, connection)


async def _read(stream: anyio.abc.SocketStream, connection: h11.Connection) -> Fetched:
    fetched: Fetched | None = None
    while True:
        try:
            event = connection.next_event()
        except h11.RemoteProtocolError as error:
            if fetched is None:
                raise
            fetched.aborted, fetched.error = True, f"RemoteProtocolError: {error}"
            return fetched
        if event is h11.NEED_DATA:
            try:
                data = await stream.receive(_READ_SIZE)
            except (anyio.EndOfStream, OSError):
                data = b""
            connection.receive_data(data)
        elif isinstance(event, h11.Response):
            headers = [
                (bytes(k).decode("latin-1"), bytes(v).decode("latin-1")) for k, v in event.headers
            ]
            fetched = Fetched(event.status_code, headers)
        elif isinstance(event, h11.Data) and fetched is not None:
            fetched.chunks.append(bytes(event.data))
        elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
            if fetched is None:
                raise h11.RemoteProtocolError("the server closed the connection without a response")
            return fetched
