"""Clients that stop reading: a request on a raw socket whose reader takes the head, then nothing.

A stalled reader is the client a send timeout and a shutdown must get rid of:
its socket's receive buffer is made small (:data:`RECEIVE_BUFFER`, before it
connects, so the window it offers stays small), it reads the response's head
(its status line and headers), then never reads again. Its body is one the
buffers between it and the server cannot hold (an 8 MiB download or echo,
endless items of 1 MiB, as text or as SSE events), so the server's sends are
bound to wait for it.

What the suite sees of the server without reading on: whether the connection
was reset (:meth:`StalledReader.reset`), or ended at all (:meth:`StalledReader.gone`:
reset, or closed by the server), from the kernel's TCP state, Linux only. A
server that closes gracefully, behind data the client will not take, leaves
the connection established for ever (its close waits behind that data); one
that aborts resets it.

Each reader's head is recorded as the suite's other transports record theirs
(:mod:`spec.witness`).

Blocking socket calls run in worker threads: only a few are made per reader.
"""

from __future__ import annotations

import fcntl
import json
import socket
import struct
import sys
import termios
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import anyio
import anyio.to_thread

from spec import witness
from spec.rules import not_applicable
from spec.surface import BYTES_PATH, ENDLESS_PATH, FILES_PATH
from spec.targets.client import speaks_http2
from spec.wire import base_path

RECEIVE_BUFFER = 4096
"""Bytes of receive buffer a stalled reader asks its kernel for (Linux doubles it)."""

FULL = RECEIVE_BUFFER // 2
"""Unread bytes from which a stalled reader's buffer counts as full (Linux fills about
three quarters of the doubled buffer it grants, 6 KiB of 8, before it closes the window)."""

BIG = 8 << 20
"""The body of a stalled download (``big.bin``) or echo: far more than any socket buffers."""

ITEM = 1 << 20
"""The size of each item of a stalled endless stream."""

#: Linux's TCP_CLOSE (the state of a connection its peer reset) and TCP_CLOSE_WAIT (its peer
#: closed it, and every byte before the close arrived).
_TCP_CLOSE, _TCP_CLOSE_WAIT = 7, 8
#: How much of a response's head a stalled reader reads at most.
_HEAD_LIMIT = 64 << 10
KINDS = {
    "endless": ("endless",),
    "sse": ("endless", "sse"),
    "bytes": ("bytes",),
    "download": ("files",),
}
"""The stream kinds a stalled reader can ask for, each with the capabilities it needs:
``endless`` (``GET /conformance/endless``, in the target's own form: text, or SSE for a
target with no plain streams), ``sse`` (the same endless stream asked for as SSE,
``form=sse``), ``bytes`` (an echo) and ``download`` (``big.bin``)."""


def observable() -> bool:
    """Whether this platform tells a socket's TCP state without reading (Linux's TCP_INFO)."""
    return sys.platform.startswith("linux") and hasattr(socket, "TCP_INFO")


def request_for(kind: str, url: str, stream_id: str, send_timeout: float | None) -> bytes:
    """The HTTP/1.1 request of a stalled reader of *kind* (:data:`KINDS`) on the server *url*."""
    split = urlsplit(url)
    prefix = base_path(url)
    host = f"{split.hostname}:{split.port}"
    timeout = [] if send_timeout is None else [("send_timeout", f"{send_timeout:g}")]
    if kind in ("endless", "sse"):
        form = [("form", "sse")] if kind == "sse" else []
        query = urlencode([("id", stream_id), ("size", str(ITEM)), *form, *timeout])
        return f"GET {prefix}{ENDLESS_PATH}?{query} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    if kind == "download":
        query = urlencode(timeout)
        path = f"{prefix}{FILES_PATH}/big.bin" + (f"?{query}" if query else "")
        return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    if kind == "bytes":
        query = urlencode([("sizes", json.dumps([BIG])), *timeout])
        head = (
            f"POST {prefix}{BYTES_PATH}?{query} HTTP/1.1\r\nHost: {host}\r\n"
            f"Content-Type: application/octet-stream\r\nContent-Length: {BIG}\r\n\r\n"
        )
        return head.encode() + b"\x00" * BIG
    raise ValueError(f"no stalled reader of kind {kind!r}")


@dataclass
class StalledReader:
    """One client that has read its response's first bytes and reads no more.

    Attributes:
        kind: what it asked for (:data:`KINDS`).
        sock: its socket (blocking; closed by :meth:`close`).
        first: the bytes it read: the response's head (and perhaps the body's first bytes),
            or less if the connection ended first.
    """

    kind: str
    sock: socket.socket
    first: bytes = b""

    @property
    def status_line(self) -> str:
        return self.first.split(b"\r\n", 1)[0].decode("latin-1")

    @property
    def status(self) -> int | None:
        """The response's status code, ``None`` if no status line arrived."""
        parts = self.status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            return None
        return int(parts[1])

    @property
    def content_type(self) -> str:
        """The media type of the response's ``Content-Type`` (lower case, ``""`` if none)."""
        head = self.first.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        for line in head.split("\r\n")[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-type":
                return value.split(";")[0].strip().lower()
        return ""

    def _state(self) -> int:
        info = self.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)
        state: int = struct.unpack("B", info[:1])[0]
        return state

    def reset(self) -> bool:
        """Whether the server has reset the connection (read without taking any data)."""
        return self._state() == _TCP_CLOSE

    def gone(self) -> bool:
        """Whether the server has ended the connection: reset it, or closed it and every byte
        it sent before the close has arrived (read without taking any data)."""
        return self._state() in (_TCP_CLOSE, _TCP_CLOSE_WAIT)

    def unread(self) -> int:
        """Bytes that have arrived and that the reader has not read (Linux's FIONREAD)."""
        queued = fcntl.ioctl(self.sock.fileno(), termios.FIONREAD, b"\0\0\0\0")
        count: int = struct.unpack("i", queued)[0]
        return count

    def filled(self) -> bool:
        """Whether the reader's receive buffer is full enough that the server's sends must wait
        (at least :data:`FULL` unread bytes): no send timeout can fire before that."""
        return self.unread() >= FULL

    def close(self) -> None:
        self.sock.close()


def _open(kind: str, url: str, stream_id: str, send_timeout: float | None) -> StalledReader:
    split = urlsplit(url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        sock.settimeout(30)
        sock.connect((split.hostname or "127.0.0.1", split.port or 80))
        request = request_for(kind, url, stream_id, send_timeout)
        sock.sendall(request)
        first = b""
        while b"\r\n\r\n" not in first and len(first) < _HEAD_LIMIT:
            received = sock.recv(4096)
            if not received:
                break
            first += received
    except BaseException:
        sock.close()
        raise
    reader = StalledReader(kind, sock, first)
    if reader.status is not None:
        witness.record(request.split(b" ", 2)[1].decode("ascii"), reader.status)
    return reader


async def open_stalled(
    kind: str, url: str, stream_id: str, send_timeout: float | None = None
) -> StalledReader:
    """Ask the server at *url* for a stream of *kind*, read its head, and stop reading.

    Raises OSError (the server refused or reset it) or TimeoutError (30 s without
    the first bytes: a hang guard, which a correct server never comes near).

    Over HTTP/2 (``--http=2``) the calling check is not applicable: a stalled reader
    here is one HTTP/1.1 connection, whose state the kernel shows; over HTTP/2 a
    stream stalls inside a connection, and HTTP2-ABORT-01 judges its send timeout.
    """
    if speaks_http2():
        not_applicable(
            "a stalled reader here is an HTTP/1.1 connection whose state the kernel shows; "
            "over HTTP/2 one stream stalls inside a connection, and the send timeout's reset "
            "is HTTP2-ABORT-01's (RST_STREAM)"
        )
    return await anyio.to_thread.run_sync(_open, kind, url, stream_id, send_timeout)
