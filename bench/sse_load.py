"""The SSE bench's client: read streams fast, count events, time first bytes; a server's CPU, RSS.

The client is raw sockets on asyncio (one ``GET`` written by hand per stream,
the response read in 256 KiB pieces and only scanned for event ends), so that
on a 2-core machine it costs far less than any server it reads: what is
measured is the server. An event is counted at each ``data:`` of the body (every
bench event has one); the body ends at chunked encoding's last chunk.

Written by hand rather than with httpx: an HTTP client that parses and
decodes each chunk costs more per event than the fastest server spends
making it, and would measure itself.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass

READ_SIZE = 256 * 1024
_END = b"\r\n0\r\n\r\n"
_DATA = b"data:"
_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class StreamResult:
    """One stream read to its end."""

    events: int
    first_byte: float
    """Seconds from writing the request to the first byte of the first event."""
    elapsed: float
    """Seconds from writing the request to the end of the body."""


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds process *pid* has used so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def rss_kib(pid: int) -> int:
    """Resident memory of process *pid*, in KiB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def _request(path: str, port: int) -> bytes:
    head = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n\r\n"
    return head.encode()


async def read_stream(port: int, path: str, start: asyncio.Event | None = None) -> StreamResult:
    """Open a connection, wait for *start* (if any), ask for *path* and read the body to its end."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=READ_SIZE)
    try:
        if start is not None:
            await start.wait()
        asked = time.perf_counter()
        writer.write(_request(path, port))
        head = b""
        while b"\r\n\r\n" not in head:
            piece = await reader.read(READ_SIZE)
            if not piece:
                raise ConnectionError(f"the server closed before the head of {path}")
            head += piece
        _, body = head.split(b"\r\n\r\n", 1)
        first_byte: float | None = None
        events = 0
        tail = b""
        while True:
            if first_byte is None and _DATA in body:
                first_byte = time.perf_counter() - asked
            # The last bytes before *body*, one fewer than a mark: a mark cut in two is
            # counted once, and none twice.
            events += (tail[-len(_DATA) + 1 :] + body).count(_DATA)
            tail = (tail + body)[-len(_END) :]
            if tail == _END:
                break
            body = await reader.read(READ_SIZE)
            if not body:
                raise ConnectionError(f"the body of {path} ended without its last chunk")
        return StreamResult(events, first_byte or 0.0, time.perf_counter() - asked)
    finally:
        writer.close()


async def read_streams(port: int, path: str, count: int) -> list[StreamResult]:
    """*count* streams of *path* at once: all connected first, then all asked at the same moment."""
    start = asyncio.Event()
    tasks = [asyncio.ensure_future(read_stream(port, path, start)) for _ in range(count)]
    await asyncio.sleep(0.05 + count / 2000)  # let the connections open before the requests go
    start.set()
    return await asyncio.gather(*tasks)


async def hold_idle(port: int, count: int) -> list[asyncio.StreamWriter]:
    """Open *count* idle streams (``GET /idle``) and return once each has its head."""

    async def one() -> asyncio.StreamWriter:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(_request("/idle", port))
        head = b""
        while b"\r\n\r\n" not in head:
            piece = await reader.read(4096)
            if not piece:
                raise ConnectionError("the server closed an idle stream")
            head += piece
        return writer

    writers: list[asyncio.StreamWriter] = []
    for batch in range(0, count, 200):
        writers += await asyncio.gather(*(one() for _ in range(min(200, count - batch))))
    return writers
