"""The ASGI harness records what an app sends and delivers disconnects when told.

Ordering is by events: each app below waits on a gate the test opens, so no
outcome depends on timing.
"""

from __future__ import annotations

import anyio
import pytest

from spec.targets import harness
from spec.targets.asgi_types import Receive, Scope, Send

SCOPE = harness.build_scope("GET", "/stream", params=[("q", "a b")])


async def three_chunks(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"x-a", b"1")]})
    for body in (b"one", b"two"):
        await send({"type": "http.response.body", "body": body, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def test_records_every_message_with_its_more_body_flag() -> None:
    async with harness.exchange(three_chunks, SCOPE) as exchange:
        await exchange.wait_start()
        bodies = [message async for message in exchange.iter_body()]
    assert exchange.status == 200
    assert exchange.headers == [("x-a", "1")]
    assert [(m["body"], m["more_body"]) for m in bodies] == [
        (b"one", True),
        (b"two", True),
        (b"", False),
    ]
    assert exchange.body == b"onetwo"


def test_scope_carries_the_query_and_the_path() -> None:
    assert SCOPE["query_string"] == b"q=a+b"
    assert SCOPE["path"] == "/stream"
    assert SCOPE["method"] == "GET"


async def test_disconnect_reaches_an_app_waiting_on_receive() -> None:
    seen: list[str] = []

    async def waits_for_disconnect(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        seen.append((await receive())["type"])
        seen.append((await receive())["type"])

    with anyio.fail_after(10):  # hang guard
        async with harness.exchange(waits_for_disconnect, SCOPE) as exchange:
            await exchange.wait_start()
            exchange.disconnect()
            await exchange.app_done.wait()
    assert seen == ["http.request", "http.disconnect"]


@pytest.mark.parametrize(("mode", "raises"), [("ignore", False), ("raise", True)])
async def test_send_after_disconnect(mode: harness.SendAfterDisconnect, raises: bool) -> None:
    outcome: list[str] = []
    gate = anyio.Event()

    async def sends_after_gate(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await gate.wait()
        try:
            await send({"type": "http.response.body", "body": b"late", "more_body": True})
            outcome.append("returned")
        except OSError:
            outcome.append("raised")

    async with harness.exchange(sends_after_gate, SCOPE, send_after_disconnect=mode) as exchange:
        await exchange.wait_start()
        exchange.disconnect()
        gate.set()
        await exchange.app_done.wait()
    assert outcome == (["raised"] if raises else ["returned"])
    assert exchange.sends_after_disconnect == 1
    assert exchange.body == b""


async def test_zero_buffer_blocks_send_until_read() -> None:
    """With ``body_buffer=0`` the app cannot run ahead of the reader: backpressure is visible."""
    progress: list[int] = []

    async def producer(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for number in range(3):
            await send({"type": "http.response.body", "body": b"x", "more_body": True})
            progress.append(number)
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async with harness.exchange(producer, SCOPE, body_buffer=0) as exchange:
        await exchange.wait_start()
        body = exchange.iter_body()
        await body.__anext__()
        await body.__anext__()
        # Two messages read: the third send cannot have completed, so number 2 is not done.
        assert progress in ([0], [0, 1])
        await body.aclose()


async def test_body_before_start_is_a_protocol_error() -> None:
    async def body_first(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.body", "body": b"x"})

    async with harness.exchange(body_first, SCOPE) as exchange:
        await exchange.app_done.wait()
    assert isinstance(exchange.app_error, harness.ProtocolError)


async def test_app_that_never_starts_is_reported() -> None:
    async def returns_silently(scope: Scope, receive: Receive, send: Send) -> None:
        return

    async with harness.exchange(returns_silently, SCOPE) as exchange:
        with pytest.raises(harness.ProtocolError, match="without starting"):
            await exchange.wait_start()


async def test_app_error_mid_stream_is_recorded() -> None:
    async def fails(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"part", "more_body": True})
        raise RuntimeError("producer failed")

    async with harness.exchange(fails, SCOPE) as exchange:
        await exchange.app_done.wait()
    assert isinstance(exchange.app_error, RuntimeError)
    assert exchange.body == b"part"


async def test_receive_answers_disconnect_once_the_response_is_complete() -> None:
    """As uvicorn does: an app that waits on receive after its last message is not left hanging."""
    seen: list[str] = []

    async def listens_after_the_end(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"done", "more_body": False})
        seen.append((await receive())["type"])

    with anyio.fail_after(10):  # hang guard
        async with harness.exchange(listens_after_the_end, SCOPE) as exchange:
            await exchange.app_done.wait()
    assert seen == ["http.disconnect"]
