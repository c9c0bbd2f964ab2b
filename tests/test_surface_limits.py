"""The surface holds nothing a hostile client asks it to (issue 14, reproductions 8-11, 13).

Each test names the reproduction it guards against, and failed before its fix.
"""

from __future__ import annotations

import json
import socket
from typing import Any

import anyio
import anyio.to_thread
import pytest

from impl.app import create_app
from impl.settings import Settings
from spec.kit import feed, streams
from spec.streams import fetch
from spec.surface import BYTES_PATH, FEED_PATH, OBSERVE_PATH, SSE_PATH
from spec.targets.asgi_types import Message
from spec.targets.client import AsgiClient
from spec.targets.server import serve

FAST = Settings(log_interval=0, event_interval=0, log_lines=5, event_count=3)

POLLS = 60
"""More long polls than anyio's default thread limiter has tokens (40)."""


async def test_observe_long_polls_take_no_worker_thread() -> None:
    """Regression (8): 60 ``observe?until=cleanup`` polls took 40 worker threads, and a
    download waited behind them for a thread. While they wait, no token of the default
    thread limiter is borrowed; once the cleanup is recorded each answers with it."""
    kit = create_app(FAST)
    record = kit.observations.new("polled")
    limiter = anyio.to_thread.current_default_thread_limiter()
    answers: list[dict[str, Any]] = []
    params = [("id", "polled"), ("until", "cleanup"), ("timeout", "10")]

    async def poll() -> None:
        fetched = await fetch(AsgiClient(kit), "GET", OBSERVE_PATH, params=params)
        answers.append(json.loads(fetched.body))

    with anyio.fail_after(20):  # a hang guard, not a verdict
        async with anyio.create_task_group() as group:
            for _ in range(POLLS):
                group.start_soon(poll)
            await anyio.wait_all_tasks_blocked()
            borrowed = limiter.borrowed_tokens
            record.cleanup.set()
    assert borrowed == 0, f"{borrowed} worker threads held by waiting polls"
    assert len(answers) == POLLS
    assert all(answer["cleanup"] for answer in answers), answers


async def test_a_head_claims_no_gate() -> None:
    """Regression (9): ``HEAD /conformance/sse?gate=hg1`` held the gate for good (a GET with
    it got 409) and 64 such HEADs made every new gate 503 for 30 s."""
    kit = create_app(FAST)
    client = AsgiClient(kit)
    for number in range(70):
        params = [("events", "[{}]"), ("gate", f"hg{number}")]
        head = await fetch(client, "HEAD", SSE_PATH, params=params)
        assert head.status == 200, head.body
    assert len(kit.gates) == 0
    with anyio.fail_after(10):  # a hang guard, not a verdict
        got = await fetch(client, "GET", SSE_PATH, params=[("events", "[]"), ("gate", "hg1")])
    assert got.status == 200, got.body


async def test_a_head_with_a_bad_gate_name_is_still_refused() -> None:
    """A HEAD claims nothing, but answers a malformed gate name as a GET does: 400."""
    params = [("events", "[]"), ("gate", "no spaces")]
    head = await fetch(AsgiClient(create_app(FAST)), "HEAD", SSE_PATH, params=params)
    assert head.status == 400


def _feed_body(size: int) -> bytes:
    """A JSON list of one string, *size* bytes in all."""
    return json.dumps(["x" * (size - 4)]).encode()


async def test_a_feed_body_past_the_cap_gets_413_and_nothing_is_published() -> None:
    """Regression (10): the feed's POST had no size limit (64 MiB was accepted)."""
    kit = create_app(FAST)
    client = AsgiClient(kit)
    path = f"{FEED_PATH}/capped"
    at_cap = await fetch(client, "POST", path, body=_feed_body(feed.MAX_BODY))
    assert at_cap.status == 200, at_cap.body
    past = await fetch(client, "POST", path, body=_feed_body(feed.MAX_BODY + 1))
    assert past.status == 413, past.body
    assert (past.header("connection") or "").lower() == "close"
    assert json.loads(at_cap.body)["ids"] == ["1"]


SEND_BOUND = 64 * 1024 * 1024
"""Bytes a client may go on sending after the 413 before the test says the server reads on
(a closed connection fails a send once the socket buffers, a few MiB, are full)."""


def _send_until_refused(sock: socket.socket, piece: bytes) -> int:
    """Send *piece* again and again; the bytes sent before the connection failed."""
    sent = 0
    while sent < SEND_BOUND:
        try:
            sock.sendall(piece)
        except OSError:
            return sent
        sent += len(piece)
    return sent


def _head_of_response(sock: socket.socket) -> bytes:
    received = b""
    while b"\r\n\r\n" not in received:
        part = sock.recv(65536)
        if not part:
            break
        received += part
    return received


@pytest.mark.parametrize(
    ("path", "limit"),
    [(f"{FEED_PATH}/big", feed.MAX_BODY), (f"{BYTES_PATH}?sizes=[1]", streams.MAX_BODY)],
)
@pytest.mark.parametrize("framing", ["declared", "chunked"])
def test_after_413_the_connection_is_closed_not_drained(
    path: str, limit: int, framing: str
) -> None:
    """Regression (11): after the 413 the server read on (6 GiB in 10 s, an endless chunked
    body likewise). Declared too large, the 413 comes before any body byte is read;
    chunked, once the cap is passed; and the connection is closed after it."""
    piece = b"x" * 65536
    with serve(create_app(FAST)) as base:
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            if framing == "declared":
                sock.sendall(f"{head}Content-Length: {6 << 30}\r\n\r\n".encode())
            else:
                sock.sendall(f"{head}Transfer-Encoding: chunked\r\n\r\n".encode())
                chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
                for _ in range(limit // len(piece) + 2):
                    sock.sendall(chunk)
                piece = chunk
            answer = _head_of_response(sock)
            assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
            assert b"connection: close" in answer.lower(), answer[:400]
            sent = _send_until_refused(sock, piece)
    assert sent < SEND_BOUND, f"the server read {sent} bytes on after its 413"


def _upload_then_leave(body: bytes) -> list[Message]:
    """A client's messages: part of a body, then gone."""
    return [
        {"type": "http.request", "body": body, "more_body": True},
        {"type": "http.disconnect"},
    ]


@pytest.mark.parametrize("path", [f"{FEED_PATH}/left", BYTES_PATH])
async def test_a_client_that_leaves_mid_upload_is_not_an_application_error(path: str) -> None:
    """Regression (13): a client reset mid-upload was logged as "Exception in ASGI
    application ... ClientDisconnect". The app returns without raising."""
    messages = _upload_then_leave(b'["a"')
    sent: list[Message] = []

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"sizes=[10]" if path == BYTES_PATH else b"",
        "headers": [(b"host", b"127.0.0.1"), (b"content-length", b"10")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    with anyio.fail_after(10):  # a hang guard, not a verdict
        await create_app(FAST)(scope, receive, send)
    statuses = [m["status"] for m in sent if m["type"] == "http.response.start"]
    assert 500 not in statuses, statuses
