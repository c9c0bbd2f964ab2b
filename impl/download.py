"""A file download that stays correct, fast and safe: :class:`FileDownload`.

One response class serves one request for a file below a root: the name is
resolved by :mod:`impl.safe_path`, preconditions by :mod:`impl.validators`,
``Range`` by :mod:`impl.ranges`, ``Content-Disposition`` by
:mod:`impl.disposition`. What it adds is the transfer:

* Reads never block the event loop: ``os.pread`` of :data:`CHUNK_SIZE` bytes (4 MiB) in a
  worker thread (``anyio.to_thread``), at an explicit offset, from a descriptor
  opened once, whose ``fstat`` gives the length, the ETag and Last-Modified.
  One chunk is read ahead while the previous one is sent, so the thread hop
  overlaps the socket write (at most three chunks are held at once).
* ``Content-Length`` holds whatever happens to the file: exactly the declared
  bytes are read and sent, never more, so a file that grows is cut at the length
  announced; a file that shrinks makes a read come back short, and the transfer
  raises :class:`FileShrank` instead of ending the body, so the server drops the
  connection and the client can tell the body is incomplete.
* A client that leaves stops the transfer: ``http.disconnect`` is watched for
  while the body is sent (servers may keep accepting ``send`` after it).
* HEAD gets the GET headers and no body.
* Where the server offers the ASGI extension ``http.response.pathsend`` (granian
  does), a whole-file 200 over HTTP/1 is handed to the server by path, which sends
  it without the bytes passing through Python. Everything else stays on the read
  path: HEAD, 304, 416, every 206 (pathsend sends a whole file, never a part), an
  empty file, a file that changed since its headers were made (size, mtime or
  identity: the path is stat'ed again, not following a final symlink, just before
  it is handed over; a file swapped or resized since then is the server's
  reading), and every response over HTTP/2 (``http_version`` ``"2"``): there
  granian 2.8.9 sends a file handed over by path as it reads it, to its end,
  whatever the Content-Length, so a file that grows during the send arrives
  longer than declared and one that shrinks ends with END_STREAM, short, as a
  complete body would (``tests/test_granian_pathsend.py``; FILE-LENGTH-01 and 02).
  Once handed over, the transfer is the server's: over HTTP/1.1 granian's h1
  layer (hyper) bounds the body by the Content-Length sent, cutting a file that
  grew at that length and dropping the connection when one shrank, as
  FILE-LENGTH-01 and 02 ask; and the send timeout and the shutdown grace below
  are its own timeouts, not this class's. On granian 2.8 that loses nothing: a
  reader that stalls holds granian's shutdown on the read path too (the worker
  waits for the connection after the download has raised :class:`ShutDown`:
  granian offers no way to abort it), and only ``--workers-kill-timeout`` bounds
  it.
  The server reopens the file by path, so the window :mod:`impl.safe_path`
  leaves open to a symlink swapped in covers the final component too, between
  the check and the server's open: ``pathsend=False`` keeps every download on the
  descriptor opened here. (The descriptor's own path, ``/proc/self/fd/N``, would
  close that window, but granian opens the file in a task of its own after
  ``send`` has returned, with nothing to say when: closed then, the descriptor
  is gone and granian answers 404 in place of the 200 already sent.)

Starlette 1.10's ``FileResponse`` was read and measured beside it (see
``bench/file_download.py``). Where it falls short, and why this is written
rather than reused: it reads until end of file, so it sends past its
Content-Length when the file grows and ends the body cleanly, short, when it
shrinks; it reads 64 KiB at a time through anyio's file wrapper (a thread hop
per 64 KiB, the main cost of its throughput); it answers 400 to a malformed or
inverted ``Range`` the RFC says to ignore; it evaluates no ``If-None-Match`` or
``If-Modified-Since``; its ``filename*`` is malformed for names with ``/``.
Reused from it: the shape of the multipart/byteranges body and the policy of
coalescing overlapping ranges.
"""

from __future__ import annotations

import mimetypes
import os
import secrets
import stat
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Protocol

import anyio
import anyio.to_thread
from anyio.streams.memory import MemoryObjectSendStream
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from impl.disposition import content_disposition
from impl.ranges import Decision, Ranges, Unsatisfiable, parse_range
from impl.safe_path import OpenFile, open_inside
from impl.validators import Validators, not_modified, range_allowed

CHUNK_SIZE = 4 << 20
"""Bytes read (and sent) at a time on the read path, chosen with ``bench/file_download.py``.

On the project's 2-core machine, shared and busy (load average 4-8), 1 GiB from the
page cache, uvicorn h11 on loopback, rounds interleaved: the server's CPU per GiB was
lower with 4 MiB reads than with 1 MiB in each of the five runs that measured it
(0.40-0.47 s against 0.42-0.57 s; 2 MiB 0.49-0.56, 8 MiB 0.51-0.54, 256 KiB
0.75-0.85), while the best wall times of 1, 2 and 4 MiB stayed within the
run-to-run noise of one another, each ahead in some runs (1330-2020 MiB/s, 0.8-1.0x
nginx's sendfile in the same runs; Starlette's FileResponse 670-840, 1.5 s of CPU
per GiB). An earlier note here said larger reads gained nothing: they gain
CPU, not wall time, on this machine. The cost is memory: three chunks are held per
download (12 MiB), within FILE-MEM-01's 32 MiB. 8 MiB costs more CPU and time again.

Each read is a new ``bytes``: ASGI's body is ``bytes``, and a reused buffer would be
unsafe besides, since asyncio's socket transport (3.12 and later) queues a
``memoryview`` of what it could not write at once, not a copy.
"""

# Python's own table, not the machine's /etc/mime.types: the same type everywhere.
_TYPES = mimetypes.MimeTypes(filenames=())
_COMPRESSED = {"gzip": "application/gzip", "bzip2": "application/x-bzip2", "xz": "application/x-xz"}

RawHeaders = list[tuple[bytes, bytes]]


class DownloadAborted(RuntimeError):
    """The download ends unfinished: the server is to drop the connection."""


class FileShrank(DownloadAborted):
    """The file ended before the length already announced: the response is aborted."""


class SlowDownload(DownloadAborted):
    """The client did not take a chunk within the send timeout."""


class ShutDown(DownloadAborted):
    """The server is shutting down and the download did not end within its grace period."""


class _Signal(Protocol):
    async def wait(self) -> None: ...


def media_type(filename: str) -> str:
    """The Content-Type of *filename*, from its extension; ``application/octet-stream`` if none.

    A compressed file (``.gz``) is the compressed type itself: it is sent as
    stored, with no Content-Encoding, so ``x.tar.gz`` is not ``application/x-tar``.
    """
    guessed, encoding = _TYPES.guess_type(filename, strict=False)
    if encoding is not None:
        return _COMPRESSED.get(encoding, "application/octet-stream")
    return guessed or "application/octet-stream"


def _raw(headers: Iterable[tuple[str, str]]) -> RawHeaders:
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]


class FileDownload(Response):
    """The response to GET or HEAD of *name* below *root*; 404 when there is no such file.

    Args:
        root: the directory served; nothing outside it is ever read.
        name: the requested path below the root, percent-decoded once.
        filename: the name offered in Content-Disposition (default: the file's own).
        chunk_size: bytes read and sent at a time.
        ranges: what a ``Range`` header selects of a file of a given length
            (default :func:`impl.ranges.parse_range`: capped, sorted, coalesced).
        send_timeout: seconds one send may wait for the client (``None``: for ever);
            past it the download raises :class:`SlowDownload`, unfinished, and the
            connection is aborted (:mod:`impl.abort`).
        shutdown: the server's shutdown notice; once it is set, the download has
            *shutdown_grace* seconds more to finish, then raises :class:`ShutDown`,
            so that no download, read or stalled, holds the server's exit.
        pathsend: hand a whole-file 200 to the server by path where it offers
            ``http.response.pathsend``, over HTTP/1 only (then the server's own
            timeouts apply).
    """

    def __init__(
        self,
        root: Path,
        name: str,
        *,
        filename: str | None = None,
        disposition: str = "attachment",
        chunk_size: int = CHUNK_SIZE,
        ranges: Callable[[str, int], Decision] = parse_range,
        send_timeout: float | None = None,
        shutdown: _Signal | None = None,
        shutdown_grace: float = 5.0,
        pathsend: bool = True,
    ) -> None:
        self.pathsend = pathsend
        self.send_timeout = send_timeout
        self.shutdown = shutdown
        self.shutdown_grace = shutdown_grace
        self.root = root
        self.name = name
        self.filename = filename
        self.disposition = disposition
        self.chunk_size = chunk_size
        self.ranges = ranges
        self.status_code = 200
        self.background = None
        self.init_headers({})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        opened = await anyio.to_thread.run_sync(open_inside, self.root, self.name)
        if opened is None:
            await _plain(send, 404, "no such file\n", head=scope["method"] == "HEAD")
            return
        shut_down = False
        try:
            async with anyio.create_task_group() as group:

                async def stop_on_disconnect() -> None:
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    group.cancel_scope.cancel()

                async def stop_on_shutdown(notice: _Signal) -> None:
                    nonlocal shut_down
                    await notice.wait()
                    await anyio.sleep(self.shutdown_grace)
                    shut_down = True
                    group.cancel_scope.cancel()

                group.start_soon(stop_on_disconnect)
                if self.shutdown is not None:
                    group.start_soon(stop_on_shutdown, self.shutdown)
                await self._respond(scope, self._timed(send), opened)
                group.cancel_scope.cancel()
        except BaseExceptionGroup as errors:
            ours, others = errors.split(DownloadAborted)
            if ours is not None and others is None:  # only an abort of ours: say so plainly
                raise _first(ours) from None
            raise
        finally:
            os.close(opened.fd)
        if shut_down:
            raise ShutDown(f"{self.name}: unfinished {self.shutdown_grace} s after the shutdown")

    def _timed(self, send: Send) -> Send:
        """*send*, bounded by the send timeout (if any)."""
        limit = self.send_timeout
        if limit is None:
            return send

        async def timed(message: Message) -> None:
            with anyio.move_on_after(limit) as waited:
                await send(message)
            if waited.cancelled_caught:
                raise SlowDownload(f"{self.name}: a chunk was not taken within {limit} s")

        return timed

    async def _respond(self, scope: Scope, send: Send, opened: OpenFile) -> None:
        request = Headers(scope=scope)
        head = scope["method"] == "HEAD"
        length = opened.stat.st_size
        validators = Validators.of(opened.stat)
        filename = self.filename if self.filename is not None else opened.name
        kind = media_type(opened.name)  # the stored file's type, whatever name it is offered under
        common = [
            ("accept-ranges", "bytes"),
            ("etag", validators.etag),
            ("last-modified", validators.last_modified),
        ]
        if not_modified(validators, request.get("if-none-match"), request.get("if-modified-since")):
            await _start(send, 304, [("etag", validators.etag)])
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        representation = [
            *common,
            ("content-disposition", content_disposition(filename, self.disposition)),
            ("x-content-type-options", "nosniff"),
        ]
        decision = None
        header = request.get("range")
        if header is not None and range_allowed(validators, request.get("if-range")):
            decision = self.ranges(header, length)
        if isinstance(decision, Unsatisfiable):
            unsatisfied = [*common, ("content-range", f"bytes */{length}")]
            await _plain(send, 416, "range not satisfiable\n", unsatisfied, head=head)
        elif isinstance(decision, Ranges) and len(decision.spans) == 1:
            first, last = decision.spans[0]
            await _start(
                send,
                206,
                [
                    *representation,
                    ("content-type", kind),
                    ("content-range", f"bytes {first}-{last}/{length}"),
                    ("content-length", str(last - first + 1)),
                ],
            )
            await self._body(send, opened.fd, [(first, last, b"")], head=head)
        elif isinstance(decision, Ranges):
            boundary = secrets.token_hex(16)
            parts = [
                (first, last, _part_head(boundary, kind, first, last, length))
                for first, last in decision.spans
            ]
            tail = f"--{boundary}--\r\n".encode("ascii")
            size = sum(len(h) + last - first + 1 + 2 for first, last, h in parts) + len(tail)
            await _start(
                send,
                206,
                [
                    *representation,
                    ("content-type", f"multipart/byteranges; boundary={boundary}"),
                    ("content-length", str(size)),
                ],
            )
            await self._body(send, opened.fd, parts, head=head, tail=tail, separator=b"\r\n")
        else:
            whole = [*representation, ("content-type", kind), ("content-length", str(length))]
            await _start(send, 200, whole)
            if self._by_path(scope, head, length) and await anyio.to_thread.run_sync(
                _unchanged, opened
            ):
                await send({"type": "http.response.pathsend", "path": opened.path})
                return
            await self._body(send, opened.fd, [(0, length - 1, b"")] if length else [], head=head)

    def _by_path(self, scope: Scope, head: bool, length: int) -> bool:
        """Whether this whole-file 200 may be handed to the server by path: not over HTTP/2,
        where granian would send the file past or short of its Content-Length."""
        offered = "http.response.pathsend" in (scope.get("extensions") or {})
        http2 = scope.get("http_version", "1.1") == "2"
        return self.pathsend and offered and not http2 and not head and length > 0

    async def _body(
        self,
        send: Send,
        fd: int,
        parts: Sequence[tuple[int, int, bytes]],
        *,
        head: bool,
        tail: bytes = b"",
        separator: bytes = b"",
    ) -> None:
        """Send each part's head, then bytes first..last of the file, then *tail*; end the body.

        The last message carries the last bytes, with ``more_body`` false.
        """
        if head:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        pending = b""
        for index, (first, last, part_head) in enumerate(parts):
            last_part = index == len(parts) - 1
            pending += part_head
            offset, end = first, last + 1
            async with anyio.create_task_group() as group:
                chunks_in, chunks = anyio.create_memory_object_stream[bytes](1)
                group.start_soon(self._read_ahead, chunks_in, fd, first, end)
                async with chunks:
                    async for data in chunks:
                        offset += len(data)
                        final = last_part and offset == end and not tail and not separator
                        body = pending + data if pending else data
                        pending = b""
                        await send(
                            {"type": "http.response.body", "body": body, "more_body": not final}
                        )
            if offset < end:
                raise FileShrank(
                    f"{self.name}: the file ended at byte {offset} of the {end} announced"
                )
            pending += separator
        if tail or separator or not parts:
            await send({"type": "http.response.body", "body": pending + tail, "more_body": False})

    async def _read_ahead(
        self, chunks: MemoryObjectSendStream[bytes], fd: int, offset: int, end: int
    ) -> None:
        """Read bytes offset..end-1 in a worker thread, one chunk ahead of the sender.

        Stops early, closing *chunks*, where the file ends: the sender sees fewer
        bytes than it expects and aborts.
        """
        async with chunks:
            while offset < end:
                data = await anyio.to_thread.run_sync(
                    _read_within_size, fd, min(self.chunk_size, end - offset), offset
                )
                if not data:
                    return
                offset += len(data)
                try:
                    await chunks.send(data)
                except anyio.BrokenResourceError:
                    return  # the sender stopped (an abort of its own): nothing is to be read


def _read_within_size(fd: int, length: int, offset: int) -> bytes:
    """``os.pread`` of *length* bytes at *offset*, less whatever lies past the file's size
    once read. A read that races a truncation can return the range being cut as bytes that
    were never the file's (seen in CI: a 4 MiB read at 8 MiB while ``changing.bin`` was cut
    to 8 MiB returned other bytes from 9,593,360 on, FILE-LENGTH-02); the size is already the
    new one when such a read returns, so they are dropped here, and the download aborts as
    for any file that shrank."""
    data = os.pread(fd, length, offset)
    size = os.fstat(fd).st_size
    return data if offset + len(data) <= size else data[: max(0, size - offset)]


def _first(errors: BaseExceptionGroup[DownloadAborted]) -> DownloadAborted:
    """The first exception of *errors*, however deep its groups nest."""
    first: BaseException = errors
    while isinstance(first, BaseExceptionGroup):
        first = first.exceptions[0]
    assert isinstance(first, DownloadAborted)
    return first


def _unchanged(opened: OpenFile) -> bool:
    """Whether the file at *opened*'s path is still the one opened, as its headers describe it:
    the same inode, size and mtime, and no symlink in its place (blocking)."""
    try:
        now = os.stat(opened.path, follow_symlinks=False)
    except OSError:
        return False
    then, held = opened.stat, os.fstat(opened.fd)
    same = {(s.st_dev, s.st_ino, s.st_size, s.st_mtime_ns) for s in (now, then, held)}
    return len(same) == 1 and stat.S_ISREG(now.st_mode)


def _part_head(boundary: str, kind: str, first: int, last: int, length: int) -> bytes:
    return (
        f"--{boundary}\r\nContent-Type: {kind}\r\n"
        f"Content-Range: bytes {first}-{last}/{length}\r\n\r\n"
    ).encode("latin-1")


async def _start(send: Send, status: int, headers: Sequence[tuple[str, str]]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": _raw(headers)})


async def _plain(
    send: Send, status: int, text: str, headers: Sequence[tuple[str, str]] = (), *, head: bool
) -> None:
    body = text.encode("utf-8")
    await _start(
        send,
        status,
        [
            *headers,
            ("content-type", "text/plain; charset=utf-8"),
            ("content-length", str(len(body))),
        ],
    )
    await send({"type": "http.response.body", "body": b"" if head else body, "more_body": False})
