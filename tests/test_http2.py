"""``--http=2``: hypercorn and granian serve h2c with prior knowledge, uvicorn is refused;
and the minimal reproductions of the server bugs the HTTP2 chapter finds.

Each reproduction is a bare ASGI app of a few lines served over HTTP/2 and read with
:mod:`spec.wire_h2`; it asserts the server's behaviour as it is today, so that a server
release that fixes it fails here, and the expected verdicts in tests/test_http2_fails.py
are then brought up to date.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import anyio
import httpx
import pytest

from impl.app import app
from spec.patience import patience, within
from spec.targets.asgi_types import Message, Receive, Scope, Send
from spec.targets.client import http_client, speak_http, speaks_http2
from spec.targets.server import HTTP2_SERVERS, serve
from spec.targets.target import TargetError, load_target
from spec.wire_h2 import INITIAL_WINDOW, H2Stream, connect

_HEAD: Message = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain")],
}


@pytest.mark.parametrize(
    ("name", "options", "said"),
    [
        ("impl.app:app", {"http": "2"}, r"--server=hypercorn or granian \(uvicorn has no HTTP/2\)"),
        ("impl.app:app", {"http": "2", "server": "uvicorn"}, "uvicorn has no HTTP/2"),
        ("http://127.0.0.1:9", {"http": "2"}, "not a running server or a command"),
        (None, {"command": "x {port}", "http": "2"}, "not a running server or a command"),
        ("impl.app:app", {"http": "3", "server": "granian"}, "expected one of 1.1, 2"),
    ],
)
def test_http2_is_refused_where_it_cannot_apply(
    name: str | None, options: dict[str, str], said: str
) -> None:
    with pytest.raises(TargetError, match=said):
        load_target(name, **options)


def test_a_target_on_hypercorn_or_granian_takes_http2() -> None:
    assert load_target("impl.app:app", server="granian", http="2").http == "2"
    assert load_target("impl.app:app", server="hypercorn").http == "1.1"


@pytest.fixture
def spoken_http2() -> Iterator[None]:
    speak_http("2")
    try:
        yield
    finally:
        speak_http("1.1")


@pytest.mark.parametrize("server", HTTP2_SERVERS)
async def test_the_suite_client_speaks_http2_with_prior_knowledge(
    server: str, spoken_http2: None
) -> None:
    assert speaks_http2()
    with serve(app, server=server, http="2") as url:
        async with http_client(url) as client:
            answer = await client.get("/conformance/text", params={"chunks": '["a", "b"]'})
    assert answer.http_version == "HTTP/2"
    assert answer.content == b"ab"


def test_an_http1_client_is_not_served_by_granian_in_http2_mode() -> None:
    """The server really speaks HTTP/2 only: an HTTP/1.1 request gets no HTTP/1.1 answer."""
    with serve(app, server="granian", http="2") as url, pytest.raises(httpx.HTTPError):
        httpx.get(url + "/conformance/capabilities", timeout=5)


async def _closed_within(connection: object, stream: H2Stream, seconds: float) -> bool:
    waited = await within(seconds, lambda: connection.until(lambda: stream.closed), verdict=False)  # type: ignore[attr-defined]
    return waited.arrived


async def _raises_after_one_chunk(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    await send(_HEAD)
    await send({"type": "http.response.body", "body": b"1\n", "more_body": True})
    raise RuntimeError("the producer failed")


async def test_hypercorn_leaves_open_a_stream_whose_app_raised() -> None:
    """hypercorn 0.18.0 over HTTP/2: an app that raises after its first chunk leaves its
    stream open, neither RST_STREAM nor END_STREAM (over HTTP/1.1 it closes the connection
    without the last chunk). granian resets the stream (INTERNAL_ERROR)."""
    for server, ended_by_reset in (("hypercorn", False), ("granian", True)):
        with serve(_raises_after_one_chunk, server=server, http="2") as url:  # type: ignore[arg-type]
            async with connect(url) as connection:
                stream = await connection.request("GET", "/")
                closed = await _closed_within(connection, stream, patience())
        assert stream.body == b"1\n"
        assert closed is ended_by_reset, (server, stream.how_it_ended())
        assert not stream.ended


async def _set_in_time(event: threading.Event, what: str) -> None:
    """Wait for *event*, set by the app in the server's thread (a hang guard, not a verdict)."""
    if not await anyio.to_thread.run_sync(event.wait, 30.0):
        raise AssertionError(f"{what} did not happen within 30 s")


def _gives_up_on_a_held_send(gave_up: threading.Event) -> object:
    async def gives_up(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await send(_HEAD)
        while True:
            with anyio.move_on_after(0.5) as scope_:
                await send({"type": "http.response.body", "body": b"x" * 512, "more_body": True})
            if scope_.cancelled_caught:
                gave_up.set()
                raise RuntimeError("the client took no chunk for 0.5 s")

    return gives_up


async def test_granian_leaves_open_a_stream_whose_app_gave_up_on_a_held_send() -> None:
    """granian 2.8.9 over HTTP/2: a client keeps its window closed, the app's send() waits,
    the app cancels that send and raises (as a send timeout does); the stream stays open,
    never reset, though the same raise after a send that returned resets it."""
    gave_up = threading.Event()
    with serve(_gives_up_on_a_held_send(gave_up), server="granian", http="2") as url:  # type: ignore[arg-type]
        async with connect(url) as connection:
            stream = await connection.request("GET", "/", window=False)
            await _set_in_time(gave_up, "the app giving up on its held send")
            closed = await _closed_within(connection, stream, patience())
    assert len(stream.body) == INITIAL_WINDOW
    assert not closed, stream.how_it_ended()


async def test_hypercorn_send_never_waits_for_a_closed_window() -> None:
    """hypercorn 0.18.0 over HTTP/2: every send() returns while the client has taken only its
    window (4096 bytes): the server buffers the rest, any amount, so an app can neither feel
    backpressure nor time out a slow client (granian's send waits: its channel is bounded)."""
    sent_all = threading.Event()
    chunks = 2_000

    async def floods(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await send(_HEAD)
        for _ in range(chunks):
            await send({"type": "http.response.body", "body": b"x" * 512, "more_body": True})
        sent_all.set()
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    with serve(floods, server="hypercorn", http="2") as url:  # type: ignore[arg-type]
        async with connect(url) as connection:
            stream = await connection.request("GET", "/", window=False)
            await _set_in_time(sent_all, f"all {chunks} sends returning")
    assert len(stream.body) <= INITIAL_WINDOW


async def _ends_short_of_its_length(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    await send({**_HEAD, "headers": [(b"content-length", b"10")]})
    await send({"type": "http.response.body", "body": b"12345", "more_body": False})


@pytest.mark.parametrize("server", HTTP2_SERVERS)
async def test_a_stream_ended_short_of_its_content_length_is_kept_as_malformed(
    server: str,
) -> None:
    """``h2`` refuses END_STREAM short of Content-Length (RFC 9113 §8.1.1) and raises
    without naming the stream: :mod:`spec.wire_h2` still keeps the stream's data and its
    END_STREAM, says it was malformed, and ends the connection instead of crashing."""
    with serve(_ends_short_of_its_length, server=server, http="2") as url:  # type: ignore[arg-type]
        async with connect(url) as connection:
            stream = await connection.request("GET", "/")
            await connection.until(lambda: stream.closed or connection.terminated is not None)
    assert stream.body == b"12345"
    assert stream.ended
    assert "InvalidBodyLengthError" in stream.malformed
    assert stream.how_it_ended().startswith("END_STREAM, malformed: InvalidBodyLengthError")
    assert connection.terminated is not None


async def test_a_held_window_opened_again_delivers_the_rest() -> None:
    """A stream whose window the client kept closed gets only its initial window; once
    :meth:`~spec.wire_h2.H2Connection.open_window` gives it back, the rest arrives."""
    size = 10 * INITIAL_WINDOW

    async def sends(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await send(_HEAD)
        await send({"type": "http.response.body", "body": b"x" * size, "more_body": False})

    with serve(sends, server="granian", http="2") as url:  # type: ignore[arg-type]
        async with connect(url) as connection:
            stream = await connection.request("GET", "/", window=False)
            await connection.until(lambda: len(stream.body) >= INITIAL_WINDOW)
            assert not stream.closed
            await connection.open_window(stream)
            with anyio.fail_after(30):
                await connection.until(lambda: stream.closed)
    assert len(stream.body) == size
    assert stream.ended
