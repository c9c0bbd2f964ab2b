"""The kit on aiohttp (``spec.kit.aiohttp_kit``) and the aiohttp peer on it.

The bridge must relay the kit's own answers unchanged (the same status and
body as the kit gives under ASGI), leave the streams to aiohttp handlers, and
give those handlers aiohttp's request; the peer, run as the matrix runs it (a
command target), must be judged on the CANCEL and surface rules instead of
being "not applicable" there.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import anyio
import h11
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from spec.kit import Kit, Stream, StreamRequest
from spec.kit.aiohttp_kit import application, handled, scope_of
from spec.kit.chat import ChatRequest
from spec.patience import guarded
from spec.streams import Fetched, fetch
from spec.surface import (
    BYTES_PATH,
    CAPABILITIES_PATH,
    CHAT_PATH,
    ENDLESS_PATH,
    OBSERVE_PATH,
    TEXT_PATH,
)
from spec.targets.client import AsgiClient, SocketClient
from tests.run_suite import run_spec

PEER = "{python} -m peers.aiohttp_sse --port {port}"

seen_requests: list[web.Request] = []


async def text(request: StreamRequest, web_request: web.Request) -> web.StreamResponse:
    """A plain aiohttp handler of the kit's text streams."""
    seen_requests.append(web_request)
    response = web.StreamResponse(headers={"Content-Type": request.media_type, **request.headers})
    await response.prepare(web_request)
    body = request.body
    assert isinstance(body, AsyncIterator)
    async for chunk in body:
        await response.write(chunk if isinstance(chunk, bytes) else chunk.encode())
    await response.write_eof()
    return response


@pytest.fixture
async def served() -> AsyncIterator[SocketClient]:
    server = TestServer(application(stream=Stream(handled(text))), host="127.0.0.1")
    await server.start_server()
    try:
        yield SocketClient(str(server.make_url("")).rstrip("/"))
    finally:
        await server.close()


REFUSED = [
    ("GET", TEXT_PATH, [("chunks", "not json")], b""),
    ("GET", TEXT_PATH, [("chunks", "[]"), ("gate", "no spaces")], b""),
    ("GET", TEXT_PATH, [("chunks", "[]"), ("gate_first", "maybe")], b""),
    ("GET", ENDLESS_PATH, [("id", "x"), ("limit", "-1")], b""),
    ("GET", ENDLESS_PATH, [("id", "x"), ("kind", "lazy")], b""),
    ("GET", OBSERVE_PATH, [("id", "never-made")], b""),
    ("POST", BYTES_PATH, [("sizes", "[1]")], b"ab"),
    ("GET", "/conformance/nothing-here", [], b""),
]


def answer(fetched: Fetched) -> tuple[int, bytes]:
    return fetched.status, fetched.body


@pytest.mark.parametrize(("method", "path", "params", "body"), REFUSED)
async def test_the_kit_refuses_through_aiohttp_as_it_does_under_asgi(
    served: SocketClient, method: str, path: str, params: list[tuple[str, str]], body: bytes
) -> None:
    under_asgi = Kit(stream=Stream(handled(text)))
    expected = await fetch(AsgiClient(under_asgi), method, path, params=params, body=body)
    assert expected.status >= 400, "a refusal"
    got = await fetch(served, method, path, params=params, body=body)
    assert answer(got) == answer(expected)


async def test_a_handled_factory_streams_with_aiohttps_request(served: SocketClient) -> None:
    seen_requests.clear()
    params = [("chunks", json.dumps(["a", "é"])), ("headers", json.dumps({"X-Extra": "1"}))]
    got = await fetch(served, "GET", TEXT_PATH, params=params)
    assert answer(got) == (200, "aé".encode())
    assert ("x-extra", "1") in got.headers
    assert len(seen_requests) == 1
    assert isinstance(seen_requests[0], web.Request)
    assert dict(got.headers)["server"].startswith("Python/"), "aiohttp's own head"


async def test_the_request_body_reaches_the_kit(served: SocketClient) -> None:
    """``POST /conformance/bytes`` reads the body through the bridge's ``receive``; the echo
    is the factory's (here a text handler serves bytes too)."""
    got = await fetch(served, "POST", BYTES_PATH, params=[("sizes", "[2,1]")], body=b"abc")
    assert answer(got) == (200, b"abc")


async def test_a_body_too_large_is_refused_with_connection_close(served: SocketClient) -> None:
    """The kit's 413 (before reading the 9 MiB declared) says ``Connection: close``, from
    aiohttp's ``force_close`` (aiohttp then lingers, reading and dropping the body for at
    most its ``lingering_time``, before it closes)."""
    url = urlsplit(served.base_url)
    head = (
        f"POST {BYTES_PATH}?sizes=%5B1%5D HTTP/1.1\r\nHost: x\r\nContent-Length: {9 << 20}\r\n\r\n"
    )
    connection = h11.Connection(h11.CLIENT)
    events: list[object] = []
    with guarded("the whole 413", 10.0):
        async with await anyio.connect_tcp(url.hostname or "127.0.0.1", url.port or 80) as sock:
            await sock.send(head.encode())
            while not any(isinstance(event, h11.EndOfMessage) for event in events):
                connection.receive_data(await sock.receive())
                while (event := connection.next_event()) is not h11.NEED_DATA:
                    events.append(event)
    response = next(event for event in events if isinstance(event, h11.Response))
    assert response.status_code == 413
    assert (b"connection", b"close") in list(response.headers)


async def test_head_of_a_kit_answer_has_its_headers_and_no_body(served: SocketClient) -> None:
    got = await fetch(served, "HEAD", TEXT_PATH, params=[("chunks", "not json")])
    assert answer(got) == (400, b"")
    assert dict(got.headers)["content-type"] == "text/plain; charset=utf-8"


async def test_capabilities_are_the_kits(served: SocketClient) -> None:
    got = await fetch(served, "GET", CAPABILITIES_PATH)
    assert json.loads(got.body) == Kit(stream=Stream(handled(text))).capabilities


async def joined(request: ChatRequest, web_request: web.Request) -> web.StreamResponse:
    """A chat handler answering the model's tokens joined, with aiohttp's request method."""
    tokens = [token async for token in request.tokens]
    return web.Response(text=f"{web_request.method} {request.style} {''.join(tokens)}")


async def test_the_chat_factory_is_a_handled_one() -> None:
    """``application(chat=)`` serves ``POST /conformance/chat``: the kit reads and checks the
    body, the handler gets the :class:`ChatRequest` and aiohttp's request."""
    app = application(chat=handled(joined))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        client = SocketClient(str(server.make_url("")).rstrip("/"))
        body = json.dumps({"tokens": ["a", "b"], "style": "typed"}).encode()
        got = await fetch(client, "POST", CHAT_PATH, body=body)
        assert answer(got) == (200, b"POST typed ab")
        refused = await fetch(client, "POST", CHAT_PATH, body=b"[]")
        assert refused.status == 400
        capabilities = await fetch(client, "GET", CAPABILITIES_PATH)
        assert json.loads(capabilities.body)["chat"] is True
    finally:
        await server.close()


async def test_a_handled_factory_outside_the_bridge_is_a_clear_error() -> None:
    """Under a plain ASGI kit (no aiohttp request to hand over) the factory says why it fails."""
    app = handled(text)(object())

    async def receive() -> dict[str, object]:
        raise AssertionError("not read")

    async def send(message: object) -> None:
        raise AssertionError("nothing sent")

    with pytest.raises(LookupError, match="aiohttp_kit"):
        await app({"type": "http"}, receive, send)


def test_the_scope_keeps_the_target_as_the_client_wrote_it() -> None:
    """aiohttp's ``request.path`` is normalised; the scope's path is the target, decoded."""
    from aiohttp.test_utils import make_mocked_request  # noqa: PLC0415

    request = make_mocked_request("GET", "/conformance/files/..%2Fouter/./a%20b?as=x%20y")
    scope = scope_of(request)
    assert scope["path"] == "/conformance/files/../outer/./a b"
    assert scope["raw_path"] == b"/conformance/files/..%2Fouter/./a%20b"
    assert scope["query_string"] == b"as=x%20y"


def test_the_aiohttp_peer_is_judged_on_the_cancel_and_surface_chapters(tmp_path: Path) -> None:
    """The peer as the matrix runs it: its capabilities are computed (all but comments, and
    NDJSON, for which the peer supplies no factory), and the surface and CANCEL rules are
    judged, not "not applicable"."""
    run = run_spec(tmp_path, "--rules=SURFACE-*,CANCEL-*", f"--target-command={PEER}")
    assert run.report["capabilities"] == {
        **dict.fromkeys(run.report["capabilities"], True),
        "comments": False,
        "ndjson": False,
    }
    results = run.results()
    inapplicable = {rule for rule, result in results.items() if result == "not applicable"}
    assert not inapplicable, results
    judged = {rule for rule, result in results.items() if result != "not observable"}
    assert {"SURFACE-GATE-01", "CANCEL-BLOCKED-01", "CANCEL-HEAD-01"} <= judged, results
    # aiohttp's handler cancellation, on in the peer: a handler waiting on its producer is
    # cancelled when the client leaves.
    assert results["CANCEL-BLOCKED-01"] in ("pass", "partial"), run.output
    assert results["CANCEL-EARLY-01"] in ("pass", "partial"), run.output
    assert all(
        result in ("pass", "partial", "not observable")
        for rule, result in results.items()
        if rule.startswith("SURFACE-") and rule not in inapplicable
    ), results
