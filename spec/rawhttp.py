"""One HTTP request written by hand over a TCP socket, its answer kept as raw bytes.

The socket transport of :mod:`spec.targets.client` (httpx) removes the
transfer coding before a check sees the body; the transfer rules need the bytes
as they were framed. This module writes the request itself (so it can speak
HTTP/1.0), keeps every byte, and parses them with h11, the sans-IO HTTP/1.1
parser, which raises on any framing error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import anyio
import h11

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
