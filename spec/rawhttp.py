"""Send a request whose target is exactly the bytes given, over a real socket.

httpx (like browsers) normalizes a URL before sending it: it removes ``..``
segments and re-encodes percent signs, so the hostile names the file chapter
needs never reach the server as written. This client writes the request line
itself and reads the response with h11, the sans-IO HTTP/1.1 parser uvicorn
also uses; it is the only thing here written by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

import anyio
import anyio.abc
import h11

from spec.streams import Fetched

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
