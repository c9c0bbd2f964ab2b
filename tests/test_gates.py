"""The kit's gates (the reference app's) hold no state longer than a stream, and refuse rightly.

The producer's patience is shortened (monkeypatched) where a test needs a
gate that is never opened to give up; no outcome depends on a duration.
"""

from __future__ import annotations

import threading

import anyio
import pytest

from impl.app import create_app
from spec.gates import GateControl, GateState, new_gate
from spec.kit import Kit, gates
from spec.sse import Event
from spec.streams import fetch
from spec.surface import SSE_PATH, TEXT_PATH, gate_path, sse_params, text_params
from spec.targets import harness
from spec.targets.asgi_types import ASGIApp, Receive, Scope, Send
from spec.targets.client import AsgiClient, SocketClient
from spec.targets.server import serve
from spec.wire import open_raw
from tests.broken.chunking import gate_ignored
from tests.checks import checks_of


def registry(app: Kit) -> gates.GateRegistry:
    return app.gates


async def test_a_finished_stream_leaves_no_gate() -> None:
    app = create_app()
    client = AsgiClient(app)
    gate = new_gate()
    params = [*text_params(["a", "b"]), ("gate", gate)]
    async with client.stream("GET", TEXT_PATH, params=params) as response:
        await GateControl(client).open(gate)
        body = b"".join([chunk async for chunk in response.chunks()])
    assert body == b"ab"
    assert len(registry(app)) == 0
    assert await GateControl(client).wait(gate) == GateState(waiting=False, produced=2)


async def test_a_gate_never_opened_ends_its_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    """A client that never opens its gate: the producer gives up and the gate is gone."""
    monkeypatch.setattr(gates, "PATIENCE", 0.05)
    app = create_app()
    gate = new_gate()
    scope = harness.build_scope("GET", TEXT_PATH, params=[*text_params(["a", "b"]), ("gate", gate)])
    async with harness.exchange(app, scope) as exchange:
        await exchange.wait_start()
        async for _ in exchange.iter_body():
            pass
    assert isinstance(exchange.app_error, gates.GateTimeout)
    assert exchange.body == b"a"
    assert len(registry(app)) == 0


async def test_a_held_gate_name_is_refused_with_409() -> None:
    app = create_app()
    client = AsgiClient(app)
    gate = new_gate()
    params = [*text_params(["a", "b"]), ("gate", gate)]
    async with (
        client.stream("GET", TEXT_PATH, params=params),
        GateControl(client).unlocked_on_exit(gate),
    ):
        second = await fetch(client, "GET", TEXT_PATH, params=params)
    assert second.status == 409


async def test_gates_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """One gate more than the capacity gets 503; nothing is kept for it."""
    monkeypatch.setattr(gates, "CAPACITY", 2)
    app = create_app()
    client = AsgiClient(app)
    names = [new_gate() for _ in range(3)]
    streams = [
        client.stream("GET", TEXT_PATH, params=[*text_params(["a", "b"]), ("gate", name)])
        for name in names[:2]
    ]
    async with streams[0], streams[1]:
        third = await fetch(
            client, "GET", TEXT_PATH, params=[*text_params(["a"]), ("gate", names[2])]
        )
        assert third.status == 503
        assert len(registry(app)) == 2
        for name in names[:2]:
            await GateControl(client).unlock(name)
    assert len(registry(app)) == 0


async def test_control_of_an_unknown_gate_is_404(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gates, "PATIENCE", 0.05)
    client = AsgiClient(create_app())
    for method, action in (("POST", "wait"), ("POST", "open"), ("DELETE", "")):
        fetched = await fetch(client, method, gate_path(new_gate(), action))
        assert fetched.status == 404, (method, action)


async def test_a_client_that_leaves_frees_its_gate(monkeypatch: pytest.MonkeyPatch) -> None:
    """Over uvicorn: the client closes while the producer waits; the gate is released."""
    app = create_app()
    gate_registry = app.gates
    released = threading.Event()
    release = gate_registry.release

    def release_and_tell(gate: gates.Gate) -> None:
        release(gate)
        released.set()

    monkeypatch.setattr(gate_registry, "release", release_and_tell)
    name = new_gate()
    with serve(app) as url:
        params = [*text_params(["a", "b"]), ("gate", name)]
        async with open_raw(url, "GET", TEXT_PATH, params=params) as raw:
            assert await raw.body_until(1) == b"a"
            assert await GateControl(SocketClient(url)).held_after(name, 1) is None
        # The connection is closed: uvicorn tells the app, which stops the producer.
        assert await anyio.to_thread.run_sync(released.wait, 10.0)
    assert len(gate_registry) == 0


async def test_gate_first_holds_the_producer_before_its_first_chunk() -> None:
    """With gate_first=true the headers are out while nothing is produced; an event stream too."""
    app = create_app()
    client = AsgiClient(app)
    control = GateControl(client)
    for path, asked in (
        (TEXT_PATH, text_params(["a", "b"])),
        (SSE_PATH, sse_params([Event("a")])),
    ):
        gate = new_gate()
        params = [*asked, ("gate", gate), ("gate_first", "true")]
        async with client.stream("GET", path, params=params) as response:
            assert response.status == 200
            assert await control.held_after(gate, 0) is None
            await control.unlock(gate)
            body = b"".join([chunk async for chunk in response.chunks()])
        assert body in (b"ab", b"data: a\n\n")
    assert len(registry(app)) == 0


@pytest.mark.parametrize(
    ("path", "params"),
    [
        (TEXT_PATH, [*text_params(["a"]), ("gate", "g"), ("gate_first", "yes")]),
        (SSE_PATH, [*sse_params([Event("a")]), ("gate_first", "1")]),
        (SSE_PATH, [*sse_params([Event("a")]), ("headers", "[]")]),
        (SSE_PATH, [*sse_params([Event("a")]), ("headers", '{"Content-Length": "1"}')]),
        (SSE_PATH, [*sse_params([Event("a")]), ("headers", '{"X-A": 1}')]),
        (SSE_PATH, [*sse_params([Event("a")]), ("headers", '{"X-A": "\\u00e9"}')]),
        (TEXT_PATH, [*text_params(["a"]), ("headers", '{"X-A": "a\\r\\nb"}')]),
    ],
)
async def test_malformed_gate_first_and_headers_are_refused_with_400(
    path: str, params: list[tuple[str, str]]
) -> None:
    app = create_app()
    fetched = await fetch(AsgiClient(app), "GET", path, params=params)
    assert (fetched.status, fetched.body[:9]) == (400, b"refused: ")
    assert len(app.gates) == 0, "a refused stream holds no gate"


async def test_an_abandoned_event_stream_frees_its_gate_before_its_first_event() -> None:
    """The client leaves while the producer waits before its first event: the stream ends."""
    app = create_app()
    gate = new_gate()
    params = [*sse_params([Event("a")]), ("gate", gate), ("gate_first", "true")]
    async with harness.exchange(app, harness.build_scope("GET", SSE_PATH, params=params)) as ex:
        await ex.wait_start()
        assert await GateControl(AsgiClient(app)).held_after(gate, 0) is None
        ex.disconnect()
        with anyio.fail_after(5):
            await ex.app_done.wait()
    assert ex.app_error is None
    assert ex.body == b""
    assert len(registry(app)) == 0


def without_gate_first(app: ASGIApp) -> ASGIApp:
    """*app* deaf to ``gate_first``: the parameter is dropped from every query."""

    async def dropping(scope: Scope, receive: Receive, send: Send) -> None:
        query = scope.get("query_string", b"").split(b"&")
        kept = b"&".join(p for p in query if not p.startswith(b"gate_first="))
        await app({**scope, "query_string": kept}, receive, send)

    return dropping


async def test_the_gate_checks_fail_where_gates_are_not_honoured() -> None:
    """SURFACE-GATE-01's checks pass on the reference, and fail on an app whose gates are
    open from the start, and (gate_first) on one that ignores gate_first."""
    checks = {name: check for _, name, check in checks_of("SURFACE-GATE-01")}
    holds = "check_gate_holds_the_producer"
    holds_first = "check_gate_first_holds_the_producer_before_its_first_chunk"
    assert {holds, holds_first} <= set(checks)
    await checks[holds](stream_client=AsgiClient(create_app()))
    await checks[holds_first](stream_client=AsgiClient(create_app()))
    with pytest.raises(AssertionError):  # the producer is not held: the stream has ended
        await checks[holds](stream_client=AsgiClient(gate_ignored))
    for app in (gate_ignored, without_gate_first(create_app())):
        with pytest.raises(AssertionError, match=r"first opening|gate_first=true"):
            await checks[holds_first](stream_client=AsgiClient(app))
