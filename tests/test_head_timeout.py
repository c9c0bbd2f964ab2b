"""The reference's head deadline over real sockets (issue 14, reproduction 12).

The reference is served by uvicorn with :class:`impl.server_protocol.HeadTimeoutH11Protocol`
and a short deadline (:data:`DEADLINE`). A connection that sends nothing, and one
that trickles its head a byte at a time, faster than any per-byte timer would
notice, are both closed: each test waits for the socket's end of stream (a hang
guard, not a verdict, bounds the wait). A request whose head is in is never cut:
a body that trickles for longer than the deadline, and a stream that lasts longer,
complete normally. "Longer than the deadline" is shown by a clock: a silent
connection opened after the request's head was sent, whose end of stream says
the deadline has passed for it, and so for the request too.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import anyio
import h11
import pytest
from anyio.abc import SocketStream

from impl.app import create_app
from impl.serve import command
from impl.server_protocol import HeadTimeoutH11Protocol, with_head_timeout
from impl.settings import ServerSettings
from spec.surface import BYTES_PATH, CAPABILITIES_PATH, SSE_PATH, gate_path
from spec.targets.process import free_port, run_child
from spec.targets.server import serve

README = Path(__file__).parents[1] / "README.md"

DEADLINE = 0.5
"""The head deadline in these tests (the reference's is 10 s)."""

GUARD = 30.0
"""A hang guard: a connection the deadline should close is not waited for longer."""

TRICKLE_INTERVAL = DEADLINE / 10
"""Seconds between two bytes of a trickled head: far under the deadline."""


@contextmanager
def served() -> Iterator[tuple[str, int]]:
    with serve(create_app(), uvicorn_http=with_head_timeout(DEADLINE)) as url:
        host, port = url.removeprefix("http://").split(":")
        yield host, int(port)


@asynccontextmanager
async def connected(address: tuple[str, int]) -> AsyncIterator[SocketStream]:
    async with await anyio.connect_tcp(*address) as stream:
        yield stream


async def end_of_stream(stream: SocketStream) -> bytes:
    """Read until the server closes the connection; what arrived before that."""
    received = b""
    with anyio.fail_after(GUARD):
        while True:
            try:
                received += await stream.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError, ConnectionResetError):
                return received


async def clock(address: tuple[str, int]) -> None:
    """Return once a silent connection opened now has been closed: the deadline has passed."""
    async with connected(address) as silent:
        await end_of_stream(silent)


async def response(stream: SocketStream, client: h11.Connection) -> tuple[int, bytes]:
    """The status and body of the next response on *stream*, read with *client*."""
    status, body = 0, b""
    with anyio.fail_after(GUARD):
        while True:
            event = client.next_event()
            if event is h11.NEED_DATA:
                client.receive_data(await stream.receive())
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                return status, body


def head(method: str, target: str, *extra: tuple[str, str]) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in extra)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def test_a_silent_connection_is_closed() -> None:
    with served() as address:
        async with connected(address) as stream:
            assert await end_of_stream(stream) == b""


async def test_a_head_that_trickles_in_is_closed_though_its_bytes_keep_coming() -> None:
    """One byte every 0.05 s of a head that never ends: the deadline is for the whole head."""
    with served() as address:
        async with connected(address) as stream, anyio.create_task_group() as group:

            async def trickle() -> None:
                for byte in b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 10_000:
                    await stream.send(bytes([byte]))
                    await anyio.sleep(TRICKLE_INTERVAL)  # pacing, not a verdict

            group.start_soon(trickle)
            assert await end_of_stream(stream) == b""
            group.cancel_scope.cancel()


async def test_many_silent_and_trickling_connections_are_all_closed() -> None:
    """Issue 14's reproduction 12, scaled: 50 silent connections and 50 that trickle a byte
    at a time are every one closed (they stayed open, all 200, for 40 s)."""
    ends: list[bytes] = []
    with served() as address, anyio.fail_after(GUARD):

        async def silent() -> None:
            async with connected(address) as stream:
                ends.append(await end_of_stream(stream))

        async def trickling() -> None:
            async with connected(address) as stream, anyio.create_task_group() as inner:

                async def trickle() -> None:
                    for byte in b"GET / HTTP/1.1\r\nX-Slow: " + b"a" * 10_000:
                        await stream.send(bytes([byte]))
                        await anyio.sleep(TRICKLE_INTERVAL)

                inner.start_soon(trickle)
                ends.append(await end_of_stream(stream))
                inner.cancel_scope.cancel()

        async with anyio.create_task_group() as group:
            for _ in range(50):
                group.start_soon(silent)
                group.start_soon(trickling)
    assert ends == [b""] * 100


async def test_the_demo_command_closes_a_silent_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``python -m impl.serve`` in a process of its own serves the reference with the
    protocol, its deadline from ``STREAMSPEC_HEAD_TIMEOUT``."""
    monkeypatch.setenv("STREAMSPEC_HEAD_TIMEOUT", str(DEADLINE))
    port = free_port()
    with run_child([sys.executable, "-m", "impl.serve", "--port", str(port)]) as child:
        await child.wait_for_line("Uvicorn running")
        address = ("127.0.0.1", port)
        async with connected(address) as stream:
            await stream.send(head("GET", CAPABILITIES_PATH))
            status, _ = await response(stream, h11.Connection(h11.CLIENT))
        assert status == 200
        async with connected(address) as stream:
            assert await end_of_stream(stream) == b""


async def test_the_next_head_on_a_kept_alive_connection_has_a_deadline_too() -> None:
    """After a complete response, a trickled second head is cut (any byte stops uvicorn's
    keep-alive timer, so that timer alone would keep it open)."""
    with served() as address:
        async with connected(address) as stream, anyio.create_task_group() as group:
            client = h11.Connection(h11.CLIENT)
            await stream.send(head("GET", CAPABILITIES_PATH))
            status, body = await response(stream, client)
            assert (status, json.loads(body)["sse"]) == (200, True)

            async def trickle() -> None:
                for byte in head("GET", CAPABILITIES_PATH, ("X-Slow", "a" * 10_000)):
                    await stream.send(bytes([byte]))
                    await anyio.sleep(TRICKLE_INTERVAL)

            group.start_soon(trickle)
            assert await end_of_stream(stream) == b""
            group.cancel_scope.cancel()


async def test_a_head_sent_byte_by_byte_in_time_is_answered() -> None:
    with served() as address:
        async with connected(address) as stream:
            for byte in head("GET", CAPABILITIES_PATH):
                await stream.send(bytes([byte]))
            status, _ = await response(stream, h11.Connection(h11.CLIENT))
            assert status == 200


async def test_a_body_slower_than_the_deadline_is_not_cut() -> None:
    """The head is in; half the body, then the clock, then the rest: the echo is complete."""
    body = b"x" * 1000
    target = f"{BYTES_PATH}?sizes={json.dumps([len(body)])}".replace(" ", "")
    with served() as address:
        async with connected(address) as stream:
            client = h11.Connection(h11.CLIENT)
            await stream.send(head("POST", target, ("Content-Length", str(len(body)))))
            await stream.send(body[:500])
            await clock(address)
            await stream.send(body[500:])
            assert await response(stream, client) == (200, body)


async def test_a_stream_that_outlasts_the_deadline_is_not_cut() -> None:
    """An SSE stream held at a gate after its first event, past the deadline, then let go:
    its second event and its end arrive."""
    events = json.dumps([{"data": "a"}, {"data": "b"}]).replace(" ", "")
    target = f"{SSE_PATH}?events={events}&gate=head-deadline"
    with served() as address:
        async with connected(address) as stream:
            client = h11.Connection(h11.CLIENT)
            await stream.send(head("GET", target))
            await clock(address)
            async with connected(address) as control:
                await control.send(
                    head("DELETE", gate_path("head-deadline"), ("Connection", "close"))
                )
                gate = await response(control, h11.Connection(h11.CLIENT))
            assert gate[0] == 204
            status, received = await response(stream, client)
            assert (status, received.count(b"data: ")) == (200, 2), received


def test_the_demo_command_serves_with_the_server_settings() -> None:
    """``python -m impl.serve`` and the README's command are the same, with the head deadline."""
    settings = ServerSettings()
    assert command() == [
        "uvicorn", "impl.app:app", "--host", "127.0.0.1", "--port", "8000",
        *settings.uvicorn_arguments(),
    ]  # fmt: skip
    assert settings.uvicorn_options()["http"].head_timeout == settings.head_timeout
    assert issubclass(settings.uvicorn_options()["http"], HeadTimeoutH11Protocol)
    assert " ".join(command()) in README.read_text()


def test_a_head_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="head_timeout"):
        with_head_timeout(0)
    with pytest.raises(ValueError, match="head_timeout"):
        ServerSettings(head_timeout=-1)
