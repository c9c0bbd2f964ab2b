"""The kit (``spec.kit``) itself: what it declares, where it serves, what it hands over.

Each property is checked by a function (``*_problem``) that returns what is
wrong, or ``None``; the test asserts ``None`` on the kit and, where the thing
checked can be broken from outside, asserts a problem on a kit broken in
exactly that way, so the check is shown to fail when the thing it tests is
broken.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Mount, Route

from spec.capabilities import KNOWN
from spec.kit import (
    SSE,
    Download,
    Kit,
    SSERequest,
    Stream,
    StreamRequest,
    factories,
    request_of,
    routed,
)
from spec.kit import api as kit_api
from spec.kit import app as kit_app
from spec.kit import capabilities as kit_capabilities
from spec.kit.records import NDJSONRequest
from spec.messages import run_exchange
from spec.ndjson import encode as encode_record
from spec.sse import Event, encode
from spec.streams import fetch
from spec.surface import (
    BYTES_PATH,
    CAPABILITIES_PATH,
    ENDLESS_PATH,
    OBSERVE_PATH,
    SSE_PATH,
    TEXT_PATH,
    file_bytes,
    sse_params,
    text_params,
)
from spec.targets import harness
from spec.targets.asgi_types import ASGIApp, Receive, Scope, Send
from spec.targets.client import AsgiClient


def text_stream(request: StreamRequest) -> Response:
    return StreamingResponse(request.body, media_type=request.media_type, headers=request.headers)


def records_stream(request: NDJSONRequest) -> Response:
    async def lines() -> AsyncIterator[bytes]:
        async for value in request.records:
            yield encode_record(value)

    return StreamingResponse(lines(), media_type=request.media_type)


def sse_stream(request: SSERequest) -> Response:
    async def encoded() -> AsyncIterator[bytes]:
        events = request.events
        assert isinstance(events, AsyncIterator)
        async for event in events:
            yield encode(event)

    return StreamingResponse(encoded(), media_type="text/event-stream", headers=request.headers)


def download(request: Any) -> Response:
    return Response(b"")


async def declared(app: ASGIApp, prefix: str = "") -> dict[str, bool]:
    fetched = await fetch(AsgiClient(app), "GET", prefix + CAPABILITIES_PATH)
    assert fetched.status == 200, fetched
    answer: dict[str, bool] = json.loads(fetched.body)
    return answer


# --- capabilities are computed from the factories ---------------------------------------------

ONLY_STREAM = {
    "sse": False,
    "feed": False,
    "comments": False,
    "hold": False,
    "idle": False,
    "stop": False,
    "files": False,
    "text": True,
    "log": True,
    "bytes": True,
    "endless": True,
    "observe": True,
    "gates": True,
    "headers": True,
    "ndjson": False,
    "chat": False,
}


async def capabilities_problem(kit: ASGIApp, expected: dict[str, bool]) -> str | None:
    """What the kit declares differs from *expected*, or an endpoint it declares false is served."""
    answer = await declared(kit)
    if answer != expected:
        return f"declared {answer}, expected {expected}"
    client = AsgiClient(kit)
    probes = {
        "sse": (SSE_PATH, sse_params([Event("a")])),
        "text": (TEXT_PATH, text_params(["a"])),
        "endless": (ENDLESS_PATH, [("id", "probe"), ("limit", "1")]),
    }
    for name, (path, params) in probes.items():
        status = (await fetch(client, "GET", path, params=params)).status
        if (status == 200) != expected[name]:
            return f"{name} declared {expected[name]}, GET {path} answered {status}"
    return None


async def test_only_a_stream_factory_declares_no_sse() -> None:
    kit = Kit(stream=text_stream)
    assert await capabilities_problem(kit, ONLY_STREAM) is None
    assert set(ONLY_STREAM) == set(KNOWN), "every capability the suite knows is declared"


async def test_capabilities_follow_the_factories_supplied() -> None:
    only_text = Kit(stream=Stream(text_stream, kinds=frozenset({"text"}), headers=False))
    expected = dict.fromkeys(ONLY_STREAM, False) | {"text": True, "gates": True}
    assert await capabilities_problem(only_text, expected) is None
    only_sse = Kit(sse=SSE(sse_stream, comments=False, keepalive=False))
    expected = dict.fromkeys(ONLY_STREAM, False) | {
        "sse": True,
        "feed": True,
        "stop": True,
        "hold": True,  # held by the kit; only the keep-alive interval is the library's
        "endless": True,  # one event a line
        "observe": True,
        "gates": True,
        "headers": True,
    }
    assert await capabilities_problem(only_sse, expected) is None
    everything = Kit(
        sse=sse_stream,
        stream=text_stream,
        download=Download(download),
        ndjson=records_stream,
        chat=lambda request: Response(status_code=204),  # the declaration is what is judged
    )
    assert await capabilities_problem(everything, dict.fromkeys(ONLY_STREAM, True)) is None


async def test_the_capabilities_check_fails_on_a_hand_written_declaration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A kit that declares everything whatever it was given is caught."""
    monkeypatch.setattr(kit_app, "capabilities", lambda _: dict.fromkeys(KNOWN, True))
    problem = await capabilities_problem(Kit(stream=text_stream), ONLY_STREAM)
    assert problem is not None
    assert "declared" in problem


async def test_a_kit_without_endless_in_its_stream_kinds_streams_endless_lines_as_events() -> None:
    kit = Kit(sse=sse_stream, stream=Stream(text_stream, kinds=frozenset({"text"})))
    params = [("id", "as-events"), ("limit", "2")]
    fetched = await fetch(AsgiClient(kit), "GET", ENDLESS_PATH, params=params)
    assert (fetched.status, fetched.body) == (200, b"data: 1\n\ndata: 2\n\n")
    observed = await fetch(AsgiClient(kit), "GET", OBSERVE_PATH, params=[("id", "as-events")])
    assert json.loads(observed.body) == {"started": True, "produced": 2, "cleanup": True}


async def test_endless_lines_are_events_when_asked_for_sse_and_text_otherwise() -> None:
    """``form=sse`` hands the endless producer to the SSE factory even when a Stream factory
    serves endless lines; ``form=text`` and no form leave them text; any other form is a 400."""
    kit = Kit(sse=sse_stream, stream=Stream(text_stream))
    client = AsgiClient(kit)
    answers = {}
    for form in ("sse", "text", None, "json"):
        params = [("id", f"form-{form}"), ("limit", "2"), *([("form", form)] if form else [])]
        fetched = await fetch(client, "GET", ENDLESS_PATH, params=params)
        answers[form] = (fetched.status, fetched.body)
    assert answers["sse"] == (200, b"data: 1\n\ndata: 2\n\n")
    assert answers["text"] == answers[None] == (200, b"1\n2\n")
    assert answers["json"][0] == 400
    observed = await fetch(client, "GET", OBSERVE_PATH, params=[("id", "form-json")])
    assert observed.status == 404, "nothing is recorded for a refused request"


def test_capabilities_are_computed_by_one_function() -> None:
    """The kit's declaration is :func:`spec.kit.capabilities.capabilities` of what it was given."""
    kit = Kit(stream=text_stream)
    assert kit.capabilities == ONLY_STREAM
    assert kit_capabilities.capabilities is kit_app.capabilities


# --- mounted under a prefix ---------------------------------------------------------------------


async def prefix_problem(kit: ASGIApp) -> str | None:
    """*kit* mounted at ``/base``: the surface is served there and not at the root."""
    outer = Starlette(routes=[Mount("/base", kit)])
    client = AsgiClient(outer)
    caps = await fetch(client, "GET", "/base" + CAPABILITIES_PATH)
    if caps.status != 200 or json.loads(caps.body) != ONLY_STREAM | {"files": True}:
        return f"GET /base{CAPABILITIES_PATH} answered {caps.status} {caps.body!r}"
    text = await fetch(client, "GET", "/base" + TEXT_PATH, params=text_params(["a", "b"]))
    if (text.status, text.body) != (200, b"ab"):
        return f"GET /base{TEXT_PATH} answered {text.status} {text.body!r}"
    name = "sub/nested.txt"
    served = await fetch(client, "GET", f"/base/conformance/files/{name}")
    if (served.status, served.body) != (200, file_bytes(name, 400)):
        return f"GET /base/conformance/files/{name} answered {served.status} {served.body[:40]!r}"
    outside = await fetch(client, "GET", CAPABILITIES_PATH)
    if outside.status != 404:
        return f"GET {CAPABILITIES_PATH} outside the prefix answered {outside.status}"
    return None


def file_download(request: Any) -> Response:
    return Response((request.root / request.name).read_bytes())


async def test_a_kit_mounted_under_a_prefix_serves_there() -> None:
    assert await prefix_problem(Kit(stream=text_stream, download=file_download)) is None


async def test_the_prefix_check_fails_on_a_kit_that_ignores_root_path() -> None:
    class Unprefixed(Kit):
        """Matches its routes on the whole path, as if it were never mounted."""

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            await super().__call__({**scope, "root_path": ""}, receive, send)

    problem = await prefix_problem(Unprefixed(stream=text_stream, download=file_download))
    assert problem is not None


# --- a factory's ASGI app is called as it is ------------------------------------------------------

RAW_BODIES = [b"one", b"", b"two"]


def raw_factory(seen: dict[str, Any]) -> Any:
    """A factory whose streams are plain ASGI functions (no Starlette), recording what they get."""

    def factory(request: StreamRequest) -> ASGIApp:
        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            seen.update(scope=scope, receive=receive, request=request)
            headers = [(b"content-type", request.media_type.encode()), (b"x-raw", b"1")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            for body in RAW_BODIES:
                await send({"type": "http.response.body", "body": body, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})

        return app

    return factory


async def raw_problem(make: Any) -> str | None:
    """The messages the factory's app sent reach the server as sent, and it was called with
    the request's own scope and ``receive``."""
    seen: dict[str, Any] = {}
    kit = make(stream=raw_factory(seen))
    scope = harness.build_scope("GET", TEXT_PATH, params=text_params(["ignored"]))
    messages: list[Any] = []

    async def receive() -> Any:  # never called: the stream reads no request body
        raise AssertionError("receive called")

    async def send(message: Any) -> None:
        messages.append(message)

    await kit(scope, receive, send)
    bodies = [(m.get("body", b""), m.get("more_body", False)) for m in messages[1:]]
    expected = [*((body, True) for body in RAW_BODIES), (b"", False)]
    if bodies != expected:
        return f"body messages {bodies}, the factory's app sent {expected}"
    if (b"x-raw", b"1") not in messages[0]["headers"]:
        return f"the start message {messages[0]}"
    if seen.get("scope") is not scope or seen.get("receive") is not receive:
        return "the factory's app got another scope or receive than the request's"
    if seen["request"].kind != "text" or seen["request"].scope is not scope:
        return f"the factory got {seen['request']}"
    return None


async def test_a_factory_returning_a_plain_asgi_callable_is_called_as_it_is() -> None:
    assert await raw_problem(Kit) is None


async def test_a_factory_may_be_a_coroutine_function() -> None:
    async def factory(request: StreamRequest) -> Response:
        return text_stream(request)

    fetched = await fetch(
        AsgiClient(Kit(stream=factory)), "GET", TEXT_PATH, params=text_params(["x"])
    )
    assert (fetched.status, fetched.body) == (200, b"x")


async def test_the_raw_check_fails_on_a_kit_that_buffers(monkeypatch: pytest.MonkeyPatch) -> None:
    """A kit that collects the factory's body messages and sends them as one is caught."""

    class Buffering(factories.Delegate):
        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            held: list[Any] = []

            async def hold(message: Any) -> None:
                held.append(message)

            await self.app(scope, receive, hold)
            start, *bodies = held
            await send(start)
            joined = b"".join(m.get("body", b"") for m in bodies)
            await send({"type": "http.response.body", "body": joined, "more_body": False})

    monkeypatch.setattr(factories, "Delegate", Buffering)
    problem = await raw_problem(Kit)
    assert problem is not None
    assert "body messages" in problem


# --- routed and request_of ------------------------------------------------------------------------


def framework_app() -> Starlette:
    """A framework app whose route streams the kit's request it finds with request_of."""

    async def my_stream(request: Request) -> Response:
        asked = request_of(request.scope)
        assert isinstance(asked, StreamRequest)
        return StreamingResponse(asked.body, media_type=asked.media_type)

    async def my_events(request: Request) -> Response:
        asked = request_of(request.scope)
        assert isinstance(asked, SSERequest)
        return sse_stream(asked)

    return Starlette(routes=[Route("/my/stream", my_stream), Route("/my/events", my_events)])


async def routed_problem(kit: ASGIApp) -> str | None:
    client = AsgiClient(kit)
    text = await fetch(client, "GET", TEXT_PATH, params=text_params(["a", "é"]))
    if (text.status, text.body) != (200, "aé".encode()):
        return f"GET {TEXT_PATH} through the framework's route: {text.status} {text.body!r}"
    events = await fetch(client, "GET", SSE_PATH, params=sse_params([Event("a", id="1")]))
    if (events.status, events.body) != (200, b"id: 1\ndata: a\n\n"):
        return f"GET {SSE_PATH} through the framework's route: {events.status} {events.body!r}"
    return None


async def test_routed_factories_reach_the_frameworks_routes() -> None:
    inner = framework_app()
    kit = Kit(sse=routed(inner, "/my/events"), stream=routed(inner, "/my/stream"), app=inner)
    assert await routed_problem(kit) is None


async def test_the_routed_check_fails_when_the_route_is_not_reached() -> None:
    """A ``routed`` that hands the framework the kit's scope unchanged: its routes never match."""

    def unrouted(app: ASGIApp, path: str) -> Any:
        return lambda request: app

    inner = framework_app()
    kit = Kit(sse=unrouted(inner, "/my/events"), stream=unrouted(inner, "/my/stream"))
    problem = await routed_problem(kit)
    assert problem is not None
    assert "404" in problem


def test_request_of_a_scope_the_kit_did_not_make_is_a_lookup_error() -> None:
    with pytest.raises(LookupError):
        request_of(harness.build_scope("GET", "/"))
    with pytest.raises(LookupError):
        request_of({kit_api.REQUEST_KEY: "not a request"})


# --- lifespan and the implementation's own app ----------------------------------------------


async def test_requests_the_surface_does_not_serve_go_to_the_app() -> None:
    async def mine(request: Request) -> Response:
        return Response(b"mine")

    kit = Kit(stream=text_stream, app=Starlette(routes=[Route("/mine", mine)]))
    assert (await fetch(AsgiClient(kit), "GET", "/mine")).body == b"mine"
    assert (await fetch(AsgiClient(Kit(stream=text_stream)), "GET", "/mine")).status == 404


async def _lifespan_of(kit: Kit) -> list[str]:
    """What *kit* sends for a startup and a shutdown."""
    incoming = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[str] = []

    async def receive() -> Any:
        return next(incoming)

    async def send(message: Any) -> None:
        sent.append(message["type"])

    await kit({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
    return sent


async def test_lifespan_is_forwarded_to_the_app_or_answered() -> None:
    """With ``app=`` the app sees startup and shutdown (once); without, the kit answers."""
    started: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "lifespan"
        while True:
            message = await receive()
            started.append(message["type"])
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return

    for kit in (Kit(app=app), Kit()):
        sent = await _lifespan_of(kit)
        assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert started == ["lifespan.startup", "lifespan.shutdown"]


async def test_a_kit_serves_its_gates_with_any_gated_stream() -> None:
    """A kit with only a Stream factory still serves the gates' control endpoints."""
    exchange = await run_exchange(Kit(stream=text_stream), "POST", "/conformance/gates/nope/open")
    assert exchange.status == 404
    assert exchange.body == b"no stream holds gate nope\n"


# --- what the kit leaves to the library -------------------------------------------------------


def raw_sse_stream(request: SSERequest) -> Response:
    """SSE written field by field as given, checking nothing: whatever reaches it is streamed."""

    async def written() -> AsyncIterator[bytes]:
        events = request.events
        assert isinstance(events, AsyncIterator)
        async for event in events:
            yield f"id: {event.id}\ndata: {event.data}\n\n".encode()

    return StreamingResponse(written(), media_type="text/event-stream")


async def test_an_event_the_encoder_must_refuse_reaches_the_library() -> None:
    """SSE-ENC-07/08 judge what the library does with an id holding LF or NUL: a kit that
    refused it first would earn a stripping library their pass (K1)."""
    kit = Kit(sse=raw_sse_stream)
    for hostile in ("a\nb", "7\0"):
        events = sse_params([Event("x", id=hostile)])
        fetched = await fetch(AsgiClient(kit), "GET", SSE_PATH, params=events)
        assert fetched.status == 200, (hostile, fetched)
        assert fetched.body == f"id: {hostile}\ndata: x\n\n".encode()


def body_reading_app() -> ASGIApp:
    """A framework whose route reads its request body before it streams (as Django does)."""

    async def echo(request: Request) -> Response:
        assert await request.body() == b""  # the kit has the body; the route is told it is empty
        asked = request_of(request.scope)
        assert isinstance(asked, StreamRequest)
        return StreamingResponse(asked.body, media_type=asked.media_type)

    return Starlette(routes=[Route("/my/bytes", echo, methods=["POST"])])


async def test_routed_tells_the_framework_the_body_the_kit_read_is_complete() -> None:
    """Without it, a framework waits for body messages the kit already took (K3)."""
    inner = body_reading_app()
    kit = Kit(stream=routed(inner, "/my/bytes"), app=inner)
    with anyio.fail_after(10):  # a hang guard: the verdict is the body below
        fetched = await fetch(
            AsgiClient(kit), "POST", BYTES_PATH, params=[("sizes", "[2, 3]")], body=b"hello"
        )
    assert (fetched.status, fetched.body, fetched.chunks) == (200, b"hello", [b"he", b"llo"])
