"""Why the reference hands no file to granian by path over HTTP/2: granian 2.8.9 sends a
pathsend file as it reads it, to its end, whatever Content-Length the app declared
(tests/servers/pathsend_app.py, no streamspec code).

The app declares the file's size and sends ``http.response.pathsend``; the server is
``python -m granian --interface asgi --http 2``. The client speaks h2c with prior knowledge
in raw frames (hyperframe and hpack, h2's own, which validate nothing: h2 would raise at the
first byte past the length and hide the rest). It announces a stream window of 0, so granian can
send the head but no DATA; when the head has arrived, it resizes the file, then opens its
windows. Each test asserts what granian sends today, so that a release that holds to the
Content-Length fails here (then the reference may use pathsend over HTTP/2 again:
``impl/download.py``).

What granian 2.8.9 sends, seen with these frames: HEADERS (``:status`` 200, the declared
``content-length``, END_HEADERS), then the file's bytes as it reads them (128 KiB reads, one
read before the window opens), in DATA frames of 16,384 bytes (the default
SETTINGS_MAX_FRAME_SIZE), until a read returns nothing; then an empty DATA frame with
END_STREAM. No RST_STREAM, no GOAWAY: a file that grew arrives longer than declared, one that
shrank arrives short, and both end as a complete response would. (A file cut to 0 bytes
once the head has arrived still arrives with the 131,072 bytes of the read made before.)
Over HTTP/1.1 granian holds to the length: the suite's FILE-LENGTH-01 and 02 pass there with
pathsend.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import hpack
import pytest
from hyperframe import frame

from spec.targets.process import free_port, run_child

pytest.importorskip("granian")

APP = "tests.servers.pathsend_app:app"
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
SIZE = 1 << 20
"""The file's length when it is requested: eight of granian's reads, so that the one it makes
before the window opens is far from the end."""
MAX_FRAME = 16384
WINDOW = 1 << 30
"""What the client opens its windows by: more than any body here, and within the 2**31 - 1
a window may reach (the connection's starts at 65,535)."""


@dataclass
class Arrived:
    """What the server sent on the request's stream, frame by frame."""

    headers: dict[str, str] = field(default_factory=dict)
    data: list[bytes] = field(default_factory=list)
    end: str = "still open"
    """``END_STREAM``, ``RST_STREAM (code)``, ``GOAWAY (code)`` or ``EOF``."""

    @property
    def body(self) -> bytes:
        return b"".join(self.data)


def _frames(connection: socket.socket) -> Iterator[object]:
    """Every frame the server sends, parsed, until it closes the connection."""
    buffer = b""
    while True:
        while len(buffer) < 9 or len(buffer) < 9 + int.from_bytes(buffer[:3], "big"):
            received = connection.recv(65536)
            if not received:
                return
            buffer += received
        parsed, length = frame.Frame.parse_frame_header(memoryview(buffer[:9]))
        parsed.parse_body(memoryview(buffer[9 : 9 + length]))
        buffer = buffer[9 + length :]
        yield parsed


def fetch(port: int, path: Path, change: Callable[[], None]) -> Arrived:
    """GET *path* over h2c with a stream window of 0; *change* the file once the head has
    arrived, then open the windows and read the stream to its end."""
    arrived = Arrived()
    request = [(":method", "GET"), (":scheme", "http"), (":authority", "x"), (":path", str(path))]
    window = frame.SettingsFrame(0, settings={frame.SettingsFrame.INITIAL_WINDOW_SIZE: 0})
    get = frame.HeadersFrame(
        1, hpack.Encoder().encode(request), flags=["END_HEADERS", "END_STREAM"]
    )
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(PREFACE + window.serialize() + get.serialize())
        for parsed in _frames(connection):
            if isinstance(parsed, frame.SettingsFrame) and "ACK" not in parsed.flags:
                connection.sendall(frame.SettingsFrame(0, flags=["ACK"]).serialize())
            elif isinstance(parsed, frame.HeadersFrame) and parsed.stream_id == 1:
                arrived.headers = dict(hpack.Decoder().decode(parsed.data))
                change()
                connection.sendall(
                    frame.WindowUpdateFrame(0, window_increment=WINDOW).serialize()
                    + frame.WindowUpdateFrame(1, window_increment=WINDOW).serialize()
                )
            elif isinstance(parsed, frame.DataFrame) and parsed.stream_id == 1:
                arrived.data.append(bytes(parsed.data))
                if "END_STREAM" in parsed.flags:
                    arrived.end = "END_STREAM"
                    return arrived
            elif isinstance(parsed, frame.RstStreamFrame) and parsed.stream_id == 1:
                arrived.end = f"RST_STREAM ({parsed.error_code})"
                return arrived
            elif isinstance(parsed, frame.GoAwayFrame):
                arrived.end = f"GOAWAY ({parsed.error_code})"
                return arrived
        arrived.end = "EOF"
    return arrived


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    """granian serving the app over HTTP/2 only, in a process of its own."""
    port = free_port()
    argv = [
        sys.executable, "-m", "granian", "--interface", "asgi", "--http", "2",
        "--host", "127.0.0.1", "--port", str(port), APP,
    ]  # fmt: skip
    with run_child(argv) as child:
        anyio.run(child.wait_until_serving, "Started worker-1", port)
        yield port


def _sent_as_a_complete_stream(arrived: Arrived) -> None:
    """Full DATA frames, then an empty one with END_STREAM: the end of a complete body."""
    assert arrived.end == "END_STREAM"
    assert arrived.data[-1] == b""
    assert all(0 < len(data) <= MAX_FRAME for data in arrived.data[:-1])


def test_a_file_that_grew_arrives_whole_past_its_content_length(port: int, tmp_path: Path) -> None:
    path = tmp_path / "grows.bin"
    path.write_bytes(os.urandom(SIZE))

    def grow() -> None:
        with path.open("ab") as file:
            file.write(os.urandom(SIZE))

    arrived = fetch(port, path, grow)
    assert arrived.headers[":status"] == "200"
    assert arrived.headers["content-length"] == str(SIZE)
    assert len(arrived.body) == 2 * SIZE
    assert arrived.body == path.read_bytes()
    _sent_as_a_complete_stream(arrived)


def test_a_file_that_shrank_ends_short_as_if_complete(port: int, tmp_path: Path) -> None:
    path = tmp_path / "shrinks.bin"
    content = os.urandom(SIZE)
    path.write_bytes(content)
    arrived = fetch(port, path, lambda: os.truncate(path, SIZE // 2))
    assert arrived.headers["content-length"] == str(SIZE)
    assert arrived.body == content[: SIZE // 2]
    _sent_as_a_complete_stream(arrived)
