"""Requests on one HTTP/2 connection (h2c with prior knowledge), every frame that
matters kept: the chapter "HTTP/2" reads what httpx hides.

httpx tells a complete body from an aborted one only by raising, and cannot
reset one stream of a connection while the others go on, nor leave one
stream's flow-control window closed. This module speaks HTTP/2 with the
sans-IO ``h2`` library on a raw TCP connection to 127.0.0.1, one reader task
feeding every frame to ``h2`` and sorting the events per stream:

* a stream records its status and headers, each DATA frame's payload, and how
  it ended: ``ended`` (a frame carrying END_STREAM) or ``reset`` (the error code
  of a RST_STREAM), or neither while it is open;
* a stream opened with ``window=True`` (the default) gives back its window as
  its data arrives, as any client reading it does; with ``window=False`` the
  client never opens its window again: the server may send it no more than
  the initial window (``SETTINGS_INITIAL_WINDOW_SIZE``, :data:`INITIAL_WINDOW`)
  while the other streams go on. The connection's own window is always given
  back, so that one stream's closed window never stalls the connection.

Every response counts as evidence (:mod:`spec.witness`), as the suite's other
transports' do. Waits are hang guards (:func:`spec.patience.guarded`) or the
caller's load-aware windows (:meth:`H2Connection.until`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import anyio
import anyio.abc
import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings

from spec import witness
from spec.wire import base_path

INITIAL_WINDOW = 4096
"""The client's initial stream window (``SETTINGS_INITIAL_WINDOW_SIZE``), in bytes: small,
so that a stream whose client never opens its window fills it in a few items."""

_READ_SIZE = 65536


@dataclass
class H2Stream:
    """One request's stream, as the frames received so far tell it."""

    stream_id: int
    path: str
    window: bool
    status: int = 0
    headers: list[tuple[str, str]] = field(default_factory=list)
    chunks: list[bytes] = field(default_factory=list)
    held: int = 0
    """Bytes of DATA received on a stream whose window the client keeps closed, not yet
    given back (:meth:`H2Connection.open_window` gives them back)."""
    ended: bool = False
    """A frame of the response carried END_STREAM: its body is complete."""
    reset: int | None = None
    """The error code of the RST_STREAM that ended the stream (from either side)."""
    malformed: str = ""
    """Why ``h2`` found the response malformed (RFC 9113 §8.1.1), if it did: for one,
    END_STREAM came short of the response's Content-Length. The frame's data is kept and
    ``ended`` set, as the server sent them; the connection is then over (``h2`` closes it)."""

    @property
    def body(self) -> bytes:
        """The DATA received so far, joined."""
        return b"".join(self.chunks)

    @property
    def closed(self) -> bool:
        """Whether the stream ended, by END_STREAM or by RST_STREAM."""
        return self.ended or self.reset is not None

    def how_it_ended(self) -> str:
        """``END_STREAM``, ``RST_STREAM (CODE)`` or ``still open``, for a failure message."""
        if self.reset is not None:
            return f"RST_STREAM ({_code_name(self.reset)})"
        if self.malformed:
            return f"END_STREAM, malformed: {self.malformed}"
        return "END_STREAM" if self.ended else "still open"


def _code_name(code: int) -> str:
    try:
        return h2.errors.ErrorCodes(code).name
    except ValueError:
        return str(code)


class H2Connection:
    """One HTTP/2 connection to the target, its streams and a reader task.

    Made by :func:`connect`; every method is called from the task that made it.
    """

    def __init__(self, stream: anyio.abc.ByteStream, authority: str, prefix: str) -> None:
        self._stream = stream
        self._authority = authority
        self._prefix = prefix
        config = h2.config.H2Configuration(client_side=True, header_encoding=None)
        self._h2 = h2.connection.H2Connection(config=config)
        self._streams: dict[int, H2Stream] = {}
        self._changed = anyio.Event()
        self.terminated: str | None = None
        """Why the connection ended (GOAWAY, or the server closed it), or ``None``."""
        self._send_lock = anyio.Lock()

    async def start(self) -> None:
        """Send the connection preface and the client's settings."""
        self._h2.initiate_connection()
        self._h2.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: INITIAL_WINDOW})
        await self._flush()

    async def request(
        self, method: str, path: str, params: Sequence[tuple[str, str]] = (), *, window: bool = True
    ) -> H2Stream:
        """Open a stream asking *method* *path* (below the target's prefix) with *params*;
        *window*: whether the client opens its window as data arrives."""
        target = self._prefix + path + (f"?{urlencode(list(params))}" if params else "")
        stream_id = self._h2.get_next_available_stream_id()
        stream = H2Stream(stream_id, target, window)
        self._streams[stream_id] = stream
        self._h2.send_headers(
            stream_id,
            [
                (":method", method),
                (":scheme", "http"),
                (":authority", self._authority),
                (":path", target),
            ],
            end_stream=True,
        )
        await self._flush()
        return stream

    def streams(self) -> list[H2Stream]:
        """The streams opened on this connection, in order."""
        return list(self._streams.values())

    async def reset(self, stream: H2Stream) -> None:
        """Send RST_STREAM (CANCEL) on *stream*: its client left, the connection stays."""
        if not stream.closed:
            self._h2.reset_stream(stream.stream_id, h2.errors.ErrorCodes.CANCEL)
            stream.reset = h2.errors.ErrorCodes.CANCEL
            await self._flush()

    async def open_window(self, stream: H2Stream) -> None:
        """From now on give *stream*'s window back as its data arrives, as a client that
        starts reading again does, and give back at once what it held meanwhile."""
        stream.window = True
        if stream.held and not stream.closed:
            self._h2.increment_flow_control_window(stream.held, stream_id=stream.stream_id)
            await self._flush()
        stream.held = 0

    async def until(self, done: Callable[[], bool]) -> None:
        """Return once ``done()`` is true, checked after every batch of frames; raise
        :class:`ConnectionEnded` if the connection ends first. No limit of its own: the
        caller's guard or window bounds it."""
        while not done():
            if self.terminated is not None:
                raise ConnectionEnded(self.terminated)
            changed = self._changed
            await changed.wait()

    async def read(self) -> None:
        """The reader: feed every byte received to ``h2``, sort the events, answer
        what ``h2`` must (settings, pings, window updates). Ends with the connection."""
        received = b""
        try:
            while self.terminated is None:
                try:
                    received += await self._stream.receive(_READ_SIZE)
                except (anyio.EndOfStream, anyio.BrokenResourceError, OSError):
                    self.terminated = "the server closed the connection"
                    break
                frames, received = _whole_frames(received)
                for frame in frames:
                    try:
                        events = self._h2.receive_data(frame)
                    except h2.exceptions.ProtocolError as error:
                        self._malformed(frame, error)
                        break
                    for event in events:
                        self._sort(event)
                await self._flush()
                self._wake()
        finally:
            self._wake()

    def _malformed(self, frame: bytes, error: h2.exceptions.ProtocolError) -> None:
        """``h2`` refused *frame* and closed the connection: keep what the frame said of its
        stream (its data, END_STREAM) and end the connection, naming the error."""
        self.terminated = f"a malformed frame: {type(error).__name__}: {error}"
        kind, flags = frame[3], frame[4]
        stream = self._streams.get(int.from_bytes(frame[5:9]) & 0x7FFFFFFF)
        if stream is None or kind != _DATA:
            return
        payload = frame[_FRAME_HEADER:]
        if flags & _PADDED and payload:
            payload = payload[1 : len(payload) - payload[0]]
        stream.chunks.append(payload)
        stream.ended = bool(flags & _END_STREAM)
        stream.malformed = f"{type(error).__name__}: {error}"

    def _sort(self, event: h2.events.Event) -> None:
        stream = self._streams.get(getattr(event, "stream_id", 0) or 0)
        if isinstance(event, h2.events.ConnectionTerminated):
            self.terminated = f"GOAWAY ({_code_name(int(event.error_code or 0))})"
        if stream is None:
            return
        if isinstance(event, h2.events.ResponseReceived):
            headers = [
                (bytes(n).decode("latin-1"), bytes(v).decode("latin-1"))
                for n, v in (event.headers or [])
            ]
            stream.headers = [(n, v) for n, v in headers if not n.startswith(":")]
            stream.status = int(dict(headers).get(":status", "0"))
            witness.record(stream.path, stream.status)
        elif isinstance(event, h2.events.DataReceived):
            stream.chunks.append(bytes(event.data or b""))
            length = event.flow_controlled_length or 0
            if stream.window:
                self._h2.acknowledge_received_data(length, stream.stream_id)
            elif length:
                self._h2.increment_flow_control_window(length)
                stream.held += length
        if isinstance(event, h2.events.StreamEnded) or getattr(event, "stream_ended", None):
            stream.ended = True
        if isinstance(event, h2.events.StreamReset):
            stream.reset = int(event.error_code or 0)

    def _wake(self) -> None:
        changed, self._changed = self._changed, anyio.Event()
        changed.set()

    async def _flush(self) -> None:
        data = self._h2.data_to_send()
        if data and self.terminated is None:
            async with self._send_lock:
                try:
                    await self._stream.send(data)
                except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                    self.terminated = "the server closed the connection"


_FRAME_HEADER = 9
_DATA, _END_STREAM, _PADDED = 0x0, 0x1, 0x8


def _whole_frames(received: bytes) -> tuple[list[bytes], bytes]:
    """*received* cut into whole frames (RFC 9113 §4.1: a 24-bit length, then 6 more
    octets of header) and the start of the next. ``h2`` is fed one frame at a time so that
    a frame it refuses is known, with its stream: ``h2`` raises without saying which."""
    frames: list[bytes] = []
    start = 0
    while len(received) - start >= _FRAME_HEADER:
        end = start + _FRAME_HEADER + int.from_bytes(received[start : start + 3])
        if len(received) < end:
            break
        frames.append(received[start:end])
        start = end
    return frames, received[start:]


class ConnectionEnded(AssertionError):
    """The HTTP/2 connection ended while a check waited on one of its streams."""


@asynccontextmanager
async def connect(base_url: str) -> AsyncIterator[H2Connection]:
    """An HTTP/2 connection to *base_url* (``http://host:port[/base]``), h2c with prior
    knowledge, its reader running while the block runs; closed on leaving."""
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    try:
        async with await anyio.connect_tcp(host, port) as tcp, anyio.create_task_group() as group:
            connection = H2Connection(tcp, f"{host}:{port}", base_path(base_url))
            await connection.start()
            group.start_soon(connection.read)
            try:
                yield connection
            finally:
                # Every stream still open is reset before the connection closes: a server
                # is told each stream's end, not only the connection's.
                for stream in connection.streams():
                    await connection.reset(stream)
                group.cancel_scope.cancel()
    except BaseExceptionGroup as raised:
        # The block's own failure (a RuleViolation, a skip), not wrapped by the reader's group.
        if len(raised.exceptions) == 1:
            raise raised.exceptions[0] from None
        raise
