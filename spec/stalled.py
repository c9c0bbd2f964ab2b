"""Clients that stop reading: a request on a raw socket whose reader takes the head, then nothing.

A stalled reader is the client a send timeout and a shutdown must get rid of:
its socket's receive buffer is made small (:data:`RECEIVE_BUFFER`, before it
connects, so the window it offers stays small), it reads the response's first
bytes (the status line), then never reads again. Its body is one the buffers
between it and the server cannot hold (an 8 MiB download or echo, endless
items of 1 MiB), so the server's sends are bound to wait for it.

What the suite sees of the server without reading on: whether the connection
was reset (:meth:`StalledReader.reset`, from the kernel's TCP state, Linux
only). A server that closes gracefully, behind data the client will not take,
leaves the connection established for ever; one that aborts resets it.

Blocking socket calls run in worker threads: only a few are made per reader.
"""

from __future__ import annotations

import json
import socket
import struct
import sys
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import anyio
import anyio.to_thread

from spec.surface import BYTES_PATH, ENDLESS_PATH, FILES_PATH
from spec.wire import base_path

RECEIVE_BUFFER = 4096
"""Bytes of receive buffer a stalled reader asks its kernel for (Linux doubles it)."""

BIG = 8 << 20
"""The body of a stalled download (``big.bin``) or echo: far more than any socket buffers."""

ITEM = 1 << 20
"""The size of each item of a stalled endless stream."""

#: Linux's TCP_CLOSE: the state of a connection its peer reset.
_TCP_CLOSE = 7
#: The stream kinds a stalled reader can ask for, each with the capability it needs.
KINDS = {"endless": "endless", "bytes": "bytes", "download": "files"}


def observable() -> bool:
    """Whether this platform tells a socket's TCP state without reading (Linux's TCP_INFO)."""
    return sys.platform.startswith("linux") and hasattr(socket, "TCP_INFO")


def request_for(kind: str, url: str, stream_id: str, send_timeout: float | None) -> bytes:
    """The HTTP/1.1 request of a stalled reader of *kind* (:data:`KINDS`) on the server *url*."""
    split = urlsplit(url)
    prefix = base_path(url)
    host = f"{split.hostname}:{split.port}"
    timeout = [] if send_timeout is None else [("send_timeout", f"{send_timeout:g}")]
    if kind == "endless":
        query = urlencode([("id", stream_id), ("size", str(ITEM)), *timeout])
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
        first: the bytes it read (the start of the status line, at least).
    """

    kind: str
    sock: socket.socket
    first: bytes = b""

    @property
    def status_line(self) -> str:
        return self.first.split(b"\r\n", 1)[0].decode("latin-1")

    def reset(self) -> bool:
        """Whether the server has reset the connection (read without taking any data)."""
        info = self.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)
        state: int = struct.unpack("B", info[:1])[0]
        return state == _TCP_CLOSE

    def close(self) -> None:
        self.sock.close()


def _open(kind: str, url: str, stream_id: str, send_timeout: float | None) -> StalledReader:
    split = urlsplit(url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        sock.settimeout(30)
        sock.connect((split.hostname or "127.0.0.1", split.port or 80))
        sock.sendall(request_for(kind, url, stream_id, send_timeout))
        first = sock.recv(16)
    except BaseException:
        sock.close()
        raise
    return StalledReader(kind, sock, first)


async def open_stalled(
    kind: str, url: str, stream_id: str, send_timeout: float | None = None
) -> StalledReader:
    """Ask the server at *url* for a stream of *kind*, read its first bytes, and stop reading.

    Raises OSError (the server refused or reset it) or TimeoutError (30 s without
    the first bytes: a hang guard, which a correct server never comes near).
    """
    return await anyio.to_thread.run_sync(_open, kind, url, stream_id, send_timeout)
