"""The raw HTTP reader of ``spec.wire`` against canned servers that frame bodies wrongly.

Each server is a few lines over an anyio TCP listener that writes fixed bytes,
so the reader is shown catching what uvicorn itself never sends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.abc
import pytest

from spec.wire import WireError, open_raw, raw_fetch

OK_CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"


@asynccontextmanager
async def canned(*answers: bytes) -> AsyncIterator[str]:
    """A server on 127.0.0.1 that writes *answers*, one per request read, then closes."""
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)

    async def serve(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            for answer in answers:
                try:
                    await stream.receive()
                except anyio.EndOfStream:
                    return
                await stream.send(answer)

    async with listener, anyio.create_task_group() as group:
        group.start_soon(listener.serve, serve)
        yield f"http://127.0.0.1:{port}"
        group.cancel_scope.cancel()


async def test_a_complete_chunked_response_is_read() -> None:
    async with canned(OK_CHUNKED, OK_CHUNKED) as url, open_raw(url, "GET", "/") as raw:
        response = await raw.to_end()
        assert (response.body, response.chunked, response.complete) == (b"abc", True, True)
        again = await raw.again("GET", "/")
        assert again is not None
        assert again.body == b"abc"


async def test_a_connection_closed_before_the_last_chunk_is_an_error() -> None:
    cut = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"
    async with canned(cut) as url, open_raw(url, "GET", "/") as raw:
        with pytest.raises(WireError):
            await raw.to_end()


async def test_bytes_past_content_length_spoil_the_next_response() -> None:
    oversent = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcXYZ"
    async with canned(oversent, OK_CHUNKED) as url, open_raw(url, "GET", "/") as raw:
        assert (await raw.to_end()).body == b"abc"
        with pytest.raises(WireError):
            await raw.again("GET", "/")


async def test_a_second_last_chunk_spoils_the_next_response() -> None:
    async with (
        canned(OK_CHUNKED + b"0\r\n\r\n", OK_CHUNKED) as url,
        open_raw(url, "GET", "/") as raw,
    ):
        await raw.to_end()
        with pytest.raises(WireError):
            await raw.again("GET", "/")


@asynccontextmanager
async def recording(answer: bytes) -> AsyncIterator[tuple[str, list[bytes]]]:
    """A server that records the one request it reads, writes *answer*, then closes."""
    received: list[bytes] = []
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)

    async def serve(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            received.append(await stream.receive())
            await stream.send(answer)

    async with listener, anyio.create_task_group() as group:
        group.start_soon(listener.serve, serve)
        yield f"http://127.0.0.1:{port}", received
        group.cancel_scope.cancel()


async def test_an_http10_request_reads_a_close_delimited_answer() -> None:
    """The request goes out as HTTP/1.0; h11 reads the answer to the close, every byte kept."""
    answer = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it"
    params = [("a", "b c")]
    async with (
        recording(answer) as (url, received),
        open_raw(url, "GET", "/x", params=params, http_version="1.0") as raw,
    ):
        response = await raw.to_end()
    assert received[0].startswith(b"GET /x?a=b+c HTTP/1.0\r\nHost: 127.0.0.1:")
    assert (response.http_version, response.status, response.body) == (b"1.0", 200, b"all of it")
    assert (response.complete, response.chunked, response.raw) == (True, False, answer)


async def test_raw_fetch_sends_the_target_as_written_and_marks_a_cut_body() -> None:
    """``..`` and ``%2e`` go out untouched; a body cut short is returned aborted, not raised."""
    cut = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"
    async with recording(cut) as (url, received):
        fetched = await raw_fetch(url, "GET", b"/files/../%2e%2e/x", [("X-A", "1")])
    assert received[0].startswith(b"GET /files/../%2e%2e/x HTTP/1.1\r\n")
    assert b"\r\nconnection: close\r\n" in received[0].lower()
    assert (fetched.status, fetched.body, fetched.aborted) == (200, b"abc", True)
    assert fetched.error
