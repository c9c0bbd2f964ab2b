"""HTTP/2: how a stream ends, and streams that share a connection.

Over HTTP/2 a response is not framed by chunked coding or by closing the
connection: its body travels in DATA frames on one stream of a connection
that many requests share (RFC 9113 §8.1). What HTTP/1.1 says with the last
chunk, HTTP/2 says with the END_STREAM flag on the response's last frame; what
HTTP/1.1 says by closing the connection without the last chunk (the body is
incomplete), HTTP/2 says with RST_STREAM on that one stream. A server that
ends an aborted body with END_STREAM makes every client take a truncated
body for a complete one, exactly as a clean last chunk would over HTTP/1.1.

The same sharing brings two duties the other chapters cannot see. A client
that leaves one stream sends RST_STREAM and keeps the connection: the server
must treat it as that stream's client disconnecting (deliver
`http.disconnect`, stop the producer, run its cleanup) while leaving the
connection's other streams alone. And flow control is per stream: a client
that stops reading one stream (it keeps that stream's window closed) must not
hold back the others (RFC 9113 §5.2), so a server must not let one stream's
blocked `send()` stall a queue the others wait in.

These rules apply only when the run speaks HTTP/2 (`--http=2`, which serves
an ASGI target with `--server=hypercorn` or `--server=granian` as h2c with
prior knowledge: the client sends the HTTP/2 connection preface at once, RFC
9113 §3.3); over HTTP/1.1 they are not applicable. Over HTTP/2 the checks of
the other chapters that read HTTP/1.1's framing on a raw connection (chunked
coding, close-delimited bodies, HTTP/1.0) are not applicable, and the others
speak HTTP/2 through httpx.

The checks read every frame with the `h2` library on their own connection
(SETTINGS_INITIAL_WINDOW_SIZE 4096; the connection's window always given
back, so only a stream's own window is ever closed) and observe producers
through `GET /conformance/observe`, as the chapter "Cancellation and cleanup"
does:

* `HTTP2-END-01`: `GET /conformance/endless?limit=5` and a finite
  `GET /conformance/sse` must each end with END_STREAM after all their data.
* `HTTP2-ABORT-01`: `GET /conformance/endless?fail=3` (the producer raises
  after 3 items) must end with RST_STREAM after items 1-3; and
  `GET /conformance/endless?send_timeout=1&limit=20000` on a stream whose
  window the client never opens must be abandoned by the server and end with
  RST_STREAM. A stream still open after the window (5 s, load-aware, plus the
  send timeout) fails as well as one ended cleanly.
* `HTTP2-RESET-01`: on one connection, `GET /conformance/endless?hold=3` (the
  producer waits for ever after 3 items, as on I/O) and a gated
  `GET /conformance/text`; the client resets the first stream (RST_STREAM,
  CANCEL) and the first producer's cleanup must be recorded within the window;
  then the gated stream must deliver its next chunk, and end with END_STREAM.
* `HTTP2-FLOW-01`: on one connection, an endless stream whose window the
  client never opens (it fills its 4096 bytes and stays blocked), and three
  gated `GET /conformance/sse` streams stepped in turn: while each producer
  is held at its gate, the event it just made must reach the client within the
  arrival window.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager

from spec.capabilities import requires
from spec.chapters.cancel import (
    GUARD,
    endless,
    endless_items,
    expect_cleanup,
    new_id,
    observe,
    observe_until,
)
from spec.gates import GateControl, arrival_guard, new_gate
from spec.patience import guarded, patience, within
from spec.rules import (
    MUST,
    Chapter,
    Source,
    expect,
    not_applicable,
    not_observable,
    violation,
)
from spec.sse import Decoder, Event, MessageEvent
from spec.surface import ENDLESS_PATH, SSE_PATH, TEXT_PATH, sse_params, text_params
from spec.targets.client import SocketClient, speaks_http2
from spec.wire_h2 import INITIAL_WINDOW, H2Connection, H2Stream, connect

chapter = Chapter(__name__)


def _rfc9113(section: str, anchor: str) -> Source:
    return Source("RFC 9113", section, f"https://www.rfc-editor.org/rfc/rfc9113#{anchor}")


def _only_over_http2() -> None:
    if not speaks_http2():
        not_applicable(
            "the run speaks HTTP/1.1; these rules are about HTTP/2's framing "
            "(--http=2 with --server=hypercorn or granian runs them)"
        )


@asynccontextmanager
async def _h2(live_url: str) -> AsyncIterator[H2Connection]:
    _only_over_http2()
    async with connect(live_url) as connection:
        yield connection


async def _closed_within(connection: H2Connection, stream: H2Stream, seconds: float) -> bool:
    """Whether *stream* ended (END_STREAM or RST_STREAM) within a load-aware window."""
    waited = await within(seconds, lambda: connection.until(lambda: stream.closed))
    return waited.arrived


def _events(stream: H2Stream) -> list[MessageEvent]:
    return [item for item in Decoder().feed(stream.body) if isinstance(item, MessageEvent)]


def _items(stream: H2Stream) -> bytes:
    """The endless stream's items as numbered lines, whether the target served them as text
    lines or, an SSE-only target, as one event each (:func:`.cancel.endless_items`)."""
    return endless_items(stream.body, dict(stream.headers).get("content-type"))


# --- How a stream ends ---------------------------------------------------------------

END = chapter.rule(
    "HTTP2-END-01",
    MUST,
    "Over HTTP/2, a response whose body is complete ends with a frame carrying the "
    "END_STREAM flag after all its DATA, and its stream is not reset.",
    _rfc9113("8.1 HTTP Message Framing", "section-8.1"),
)


@requires("endless")
@END.check
async def check_complete_body_ends_with_end_stream(live_url: str) -> None:
    """Read ``GET /conformance/endless?limit=5`` on one stream: items 1 to 5, then END_STREAM."""
    async with _h2(live_url) as connection:
        stream = await connection.request("GET", ENDLESS_PATH, endless(new_id(), limit=5))
        closed = await _closed_within(connection, stream, patience())
    expect(stream.status, 200, "status of the endless stream (limit=5)")
    expect(_items(stream), b"1\n2\n3\n4\n5\n", "the items of the endless stream (limit=5)")
    if not closed or stream.reset is not None:
        violation(
            "how the complete stream ended",
            "END_STREAM",
            f"{stream.how_it_ended()}, {patience():g} s after its last item was asked for",
        )


@requires("sse")
@END.check
async def check_complete_sse_ends_with_end_stream(live_url: str) -> None:
    """Read a finite ``GET /conformance/sse`` of three events: all three, then END_STREAM."""
    events = [Event(data=word) for word in ("one", "two", "three")]
    async with _h2(live_url) as connection:
        stream = await connection.request("GET", SSE_PATH, sse_params(events))
        closed = await _closed_within(connection, stream, patience())
    expect(stream.status, 200, "status of the SSE stream")
    expect([e.data for e in _events(stream)], ["one", "two", "three"], "the events received")
    if not closed or stream.reset is not None:
        violation("how the complete SSE stream ended", "END_STREAM", stream.how_it_ended())


ABORT = chapter.rule(
    "HTTP2-ABORT-01",
    MUST,
    "Over HTTP/2, a response whose body the server cannot complete (its producer raised, "
    "or a send timeout abandoned it) ends with RST_STREAM, never with END_STREAM.",
    _rfc9113("5.4.2 Stream Error Handling", "section-5.4.2"),
    why="RFC 9113 gives RST_STREAM for a stream that cannot go on and END_STREAM for the "
    "last frame of a message; a clean end on a truncated body is the HTTP/2 form of the "
    "last chunk after an error (CANCEL-ERROR-01): the client cannot tell it from a "
    "complete body.",
    beyond_source=True,
)


def _expect_reset(stream: H2Stream, closed: bool, what: str, window: float) -> None:
    if stream.ended:
        violation(what, "RST_STREAM", "END_STREAM: the truncated body looks complete")
    if not closed:
        violation(what, "RST_STREAM", f"the stream still open {window:g} s later")


@requires("endless")
@ABORT.check
async def check_producer_error_resets_stream(live_url: str) -> None:
    """Read ``GET /conformance/endless?fail=3``: items 1 to 3, then RST_STREAM."""
    async with _h2(live_url) as connection:
        stream = await connection.request("GET", ENDLESS_PATH, endless(new_id(), fail=3))
        closed = await _closed_within(connection, stream, patience())
    expect(stream.status, 200, "status of the endless stream (fail=3)")
    expect(_items(stream), b"1\n2\n3\n", "the items before the producer failed")
    _expect_reset(stream, closed, "how the stream whose producer raised ended", patience())


@requires("endless", "observe")
@ABORT.check
async def check_send_timeout_resets_stream(live_url: str) -> None:
    """Ask for ``GET /conformance/endless?send_timeout=1`` and never open its window: the
    server abandons the stream after 1 s without progress; it must end with RST_STREAM."""
    stream_id = new_id()
    window = patience() + 1
    async with _h2(live_url) as connection:
        params = endless(stream_id, limit=20_000, send_timeout=1)
        stream = await connection.request("GET", ENDLESS_PATH, params, window=False)
        closed = await _closed_within(connection, stream, window)
    expect(stream.status, 200, "status of the endless stream (send_timeout=1)")
    if not closed:
        facts = await observe(SocketClient(live_url), stream_id)
        violation(
            "how the stream the server could not send ended",
            "RST_STREAM once the send timeout abandoned it",
            f"still open {window:g} s later, {len(stream.body)} bytes received (the window "
            f"was {INITIAL_WINDOW}); the producer made {facts.get('produced')} items, "
            f"cleanup {facts.get('cleanup')}",
        )
    _expect_reset(stream, closed, "how the stream the server could not send ended", window)


# --- Streams sharing a connection ----------------------------------------------------

RESET = chapter.rule(
    "HTTP2-RESET-01",
    MUST,
    "When the client resets one stream (RST_STREAM), the server stops that stream's "
    "producer and runs its cleanup promptly, and the other streams on the same connection "
    "go on.",
    _rfc9113("6.4 RST_STREAM", "section-6.4"),
    why="RST_STREAM is how an HTTP/2 client leaves one response (a closed tab, a "
    "cancelled fetch) while the connection serves its other requests: to the app it is "
    "the client disconnecting (ASGI http.disconnect), with every duty of CANCEL-CLEANUP-01.",
    beyond_source=True,
)


@requires("endless", "observe", "text", "gates")
@RESET.check
async def check_reset_stream_cleans_up_and_others_go_on(live_url: str) -> None:
    """Reset a stream whose producer waits on I/O; its cleanup must be recorded, and a gated
    stream on the same connection must still deliver its next chunk and end."""
    control_client = SocketClient(live_url)
    control = GateControl(control_client)
    stream_id, gate = new_id(), new_gate()
    async with _h2(live_url) as connection, control.unlocked_on_exit(gate):
        held = await connection.request("GET", ENDLESS_PATH, endless(stream_id, hold=3))
        other = await connection.request(
            "GET", TEXT_PATH, [*text_params(["one ", "two ", "three"]), ("gate", gate)]
        )
        with guarded("the first items of both streams", GUARD):
            await connection.until(lambda: _items(held) == b"1\n2\n3\n" and other.body == b"one ")
        await connection.reset(held)
        facts = await observe_until(control_client, stream_id, "cleanup")
        expect_cleanup(facts, "after the client reset its stream (RST_STREAM, CANCEL)")
        if other.closed:
            violation("the other stream after one was reset", "still open", other.how_it_ended())
        await control.open(gate)
        waited = await within(
            arrival_guard(), lambda: connection.until(lambda: other.body.startswith(b"one two "))
        )
        if not waited.arrived:
            violation(
                "the other stream's next chunk, after one stream was reset",
                "b'two ' arrives",
                f"{other.body!r} ({other.how_it_ended()})",
            )


FLOW = chapter.rule(
    "HTTP2-FLOW-01",
    MUST,
    "Over HTTP/2, flow control holds back only the stream it applies to: while the client "
    "keeps one stream's window closed, every other SSE stream on the same connection "
    "delivers each event as it is produced.",
    _rfc9113("5.2 Flow Control", "section-5.2"),
    why="RFC 9113 gives flow control so that streams on one connection do not interfere; "
    "a server that serialises its streams' sends lets one slow reader (a background tab) "
    "hold back every live stream the page opened.",
)

SSE_STREAMS = 3
STEPS = ("first", "second", "third")


@requires("endless", "sse", "gates")
@FLOW.check
async def check_closed_window_holds_back_no_other_stream(live_url: str) -> None:
    """Fill the window of one endless stream and keep it closed; step three gated SSE streams
    on the same connection: each event must arrive, its producer then held at its gate (it
    made no other), before the gate lets it make the next."""
    control = GateControl(SocketClient(live_url))
    gates = [new_gate() for _ in range(SSE_STREAMS)]
    events = [Event(data=step) for step in STEPS]
    async with _h2(live_url) as connection, AsyncExitStack() as unlocking:
        for gate in gates:
            await unlocking.enter_async_context(control.unlocked_on_exit(gate))
        blocked = await connection.request(
            "GET", ENDLESS_PATH, endless(new_id(), limit=20_000), window=False
        )
        with guarded(f"the {INITIAL_WINDOW} bytes of the blocked stream's window", GUARD):
            await connection.until(lambda: len(blocked.body) >= INITIAL_WINDOW or blocked.closed)
        streams = [
            await connection.request("GET", SSE_PATH, [*sse_params(events), ("gate", gate)])
            for gate in gates
        ]
        for number in range(1, len(events) + 1):
            for stream, gate in zip(streams, gates, strict=True):
                await _expect_arrival(connection, stream, number, blocked)
                if number < len(events):
                    why = await control.held_after(gate, number)
                    if why is not None:
                        not_observable(why)
                    await control.open(gate)
        if blocked.closed:
            violation("the stream whose window stayed closed", "still open", blocked.how_it_ended())


async def _expect_arrival(
    connection: H2Connection, stream: H2Stream, number: int, blocked: H2Stream
) -> None:
    arrived: Callable[[], bool] = lambda: len(_events(stream)) >= number  # noqa: E731
    waited = await within(arrival_guard(), lambda: connection.until(arrived))
    if not waited.arrived:
        violation(
            f"event {number} of an SSE stream, while another stream's window stays closed",
            f"it arrives while its producer waits at the gate (within {arrival_guard():g} s)",
            f"{len(_events(stream))} events received; the blocked stream has "
            f"{len(blocked.body)} bytes",
        )
