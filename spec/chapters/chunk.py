"""Chunk boundaries: how a stream is cut and delivered.

A streaming response is a producer (an async generator) and a server that
hands each chunk to the client. It streams only if every chunk leaves as soon
as it is made: a server that gathers chunks first (to join small writes, to
learn which chunk is the last, to compute a length) turns the stream back into
a slow download, and the client's first byte waits for the producer's last.

At the ASGI level each chunk is one `http.response.body` message with
`more_body: true`, and the body ends with exactly one message with
`more_body: false`. On an HTTP/1.1 connection a body of unknown length is sent
with the chunked transfer coding, and its end is the *last chunk*
(`0\\r\\n\\r\\n`): without it a client cannot tell a finished body from a cut one.

"Nothing is held back" is shown with a *gate* (see the chapter "Conformance
surface"): the suite asks for a stream whose producer waits at a gate before
each chunk after the first, learns from the target when the producer is
blocked there, and then looks at what the client has. At that moment chunk k
must already be with the client, since the producer cannot make chunk k+1
until the suite opens the gate. Over a real socket, the suite waits for chunk
k for five seconds while the producer is blocked (the environment variable
`STREAMSPEC_ARRIVAL_GUARD` changes it), counting only the time the suite was
running promptly, so that the window stretches on a loaded machine; a chunk
that has not arrived by then is held back. No check sleeps, and a correct server passes each of
them as fast as its bytes travel.

```
client                    server                   producer
  |  GET ...?gate=g  -------->|                          |
  |                           |---- next? -------------->|  chunk 1
  |<------- headers, chunk 1 -|---- next? -------------->|  waits at g
  |  POST gates/g/wait ------>|   (answers: waiting, produced 1)
  |  (chunk 1 is here: good)  |                          |
  |  POST gates/g/open ------>|------------------------->|  chunk 2 ...
```

The same gate shows that the headers and the first chunk arrive while the
producer is still blocked before its second: time to first byte does not
depend on the length of the stream.

Arbitrary bytes, cut where hypothesis chooses (empty, one-byte and large
chunks, UTF-8 cut inside a character), go through `POST /conformance/bytes`,
which streams its request body back in chunks of the sizes asked for; on the
wire the response is read off a raw socket and parsed by h11, which keeps the
chunked framing that ordinary clients hide.

The chapter ends with the text log stream of the streaming tutorial (see
[the sources](#sources)), whose lines lost their newlines in publication
(`"...n"`): each line must arrive as it is produced, in order, ending in a
real line feed.
"""

from __future__ import annotations

import codecs
from collections.abc import Sequence

import anyio
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from spec import strategies
from spec.capabilities import requires
from spec.feeding import cut
from spec.gates import GateControl, arrival_guard, new_gate
from spec.messages import run_exchange, sent_bodies
from spec.patience import within
from spec.rules import MUST, Chapter, Source, expect, not_observable, violation
from spec.sources import ASGI_BODY, CHUNKED, TUTORIAL_LOG, TUTORIAL_WHY
from spec.streams import fetch
from spec.surface import (
    BYTES_PATH,
    LOG_PATH,
    TEXT_PATH,
    bytes_params,
    log_params,
    text_params,
)
from spec.targets import harness
from spec.targets.asgi_types import ASGIApp
from spec.targets.client import AsgiClient, Params, SocketClient, StreamClient
from spec.targets.target import Target
from spec.wire import WireError, open_raw, read_whole

chapter = Chapter(__name__)

CONTENT_LENGTH = Source(
    "RFC 9110", "8.6 Content-Length", "https://www.rfc-editor.org/rfc/rfc9110#section-8.6"
)

_EXCHANGE_GUARD_SECONDS = 30.0

TEXT_CHUNKS = ["first\n", "", "é", "例子 ✓\n", "x", "last\n"]
"""Text chunks with an empty one, one-character ones and non-ASCII ones."""

LOG_LINES = ["GET /a 200", "naïve 例子 ✓", "", "tab\there", "last line"]


def _encoded(chunks: Sequence[str]) -> list[bytes]:
    return [chunk.encode() for chunk in chunks]


def _log_bytes(lines: Sequence[str]) -> list[bytes]:
    return [line.encode() + b"\n" for line in lines]


# Reading at the message level and on the wire


# Nothing held back, at both levels


async def assert_nothing_held_back_in_messages(
    app: ASGIApp,
    path: str,
    params: Params,
    chunks: Sequence[bytes],
    what: str,
    *,
    prefix: str = "",
) -> None:
    """While the producer waits before chunk k+1, the app has sent chunks 1..k and no more.

    *path* is put below *prefix*, the target's base path.
    """
    gate = new_gate()
    control = GateControl(AsgiClient(app, prefix=prefix))
    scope = harness.build_scope("GET", path, params=[*params, ("gate", gate)], prefix=prefix)
    # Verdicts are given outside the exchange, whose task group would wrap them.
    unheld: str | None = None
    seen: tuple[int, bytes] | None = None
    async with harness.exchange(app, scope) as exchange, control.unlocked_on_exit(gate):
        for k in range(1, len(chunks)):
            unheld = await control.held_after(gate, k)
            if unheld:
                break
            sent = b"".join(sent_bodies(exchange))
            if sent != b"".join(chunks[:k]):
                seen = (k, sent)
                break
            await control.open(gate)
    if unheld:
        not_observable(unheld)
    if seen is not None:
        k, sent = seen
        expect(
            sent,
            b"".join(chunks[:k]),
            f"{what}: body sent while the producer waits before chunk {k + 1}",
        )


async def assert_nothing_held_back_on_socket(
    base_url: str, path: str, params: Params, chunks: Sequence[bytes], what: str
) -> None:
    """While the producer waits before chunk k+1, the client reads chunks 1..k off the socket."""
    gate = new_gate()
    control = GateControl(SocketClient(base_url))
    async with (
        open_raw(base_url, "GET", path, params=[*params, ("gate", gate)]) as raw,
        control.unlocked_on_exit(gate),
    ):
        for k in range(1, len(chunks)):
            unheld = await control.held_after(gate, k)
            if unheld:
                not_observable(unheld)
            expected = b"".join(chunks[:k])

            async def arrived(size: int = len(expected)) -> bytes:
                return await raw.body_until(size)

            waited = await within(arrival_guard(), arrived)
            expect(
                raw.response.body,
                expected,
                f"{what}: body received over the socket while the producer waits before "
                f"chunk {k + 1} (waited {waited.seconds:.1f} s)",
            )
            await control.open(gate)


# Hypothesis draws of chunkings


def _large(unit: bytes, size: int) -> bytes:
    return (unit * (size // len(unit) + 1))[:size]


_chunk = st.one_of(
    st.just(b""),
    st.binary(min_size=1, max_size=1),
    st.binary(max_size=64),
    st.builds(_large, st.binary(min_size=1, max_size=16), st.integers(16 * 1024, 256 * 1024)),
)
byte_chunkings = st.lists(_chunk, max_size=10)
"""Any bytes cut any way: empty chunks, one-byte chunks, small ones and large ones."""


@st.composite
def text_cut_anywhere(draw: st.DrawFn) -> tuple[str, list[bytes]]:
    """Text with multi-byte characters, its UTF-8 cut at any bytes (inside sequences too)."""
    text = draw(strategies.texts(max_size=60))
    data = text.encode()
    points = draw(st.lists(st.integers(0, len(data)), max_size=len(data) + 1))
    return text, cut(data, points)


MESSAGES = chapter.rule(
    "CHUNK-MSG-01",
    MUST,
    "Each non-empty chunk the producer yields is sent as its own http.response.body message "
    "with more_body true, in the order it was produced (an empty chunk may be sent as an "
    "empty message or not at all).",
    ASGI_BODY,
)


@requires("text")
@MESSAGES.check
async def check_each_chunk_is_its_own_message(target: Target) -> None:
    """Six text chunks (one empty, one-character and non-ASCII ones) leave as five messages
    with a body, in order; the empty chunk may leave as an empty message or not at all."""
    exchange = await run_exchange(
        target.app, "GET", TEXT_PATH, text_params(TEXT_CHUNKS), prefix=target.prefix
    )
    expect(exchange.status, 200, "status of GET /conformance/text")
    bodies = [
        bytes(m.get("body", b""))
        for m in exchange.body_messages
        if m.get("more_body", False) and m.get("body")
    ]
    expect(
        bodies,
        [chunk for chunk in _encoded(TEXT_CHUNKS) if chunk],
        "bodies of the messages with more_body true",
    )


@requires("bytes")
@MESSAGES.check
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(chunks=byte_chunkings)
@example(chunks=[b"a", b"", b"b", b"c" * 70000, b"d"])  # an empty chunk between others
async def check_any_chunking_gives_one_message_per_chunk(
    target: Target, chunks: list[bytes]
) -> None:
    """Hypothesis draws bytes and cuts; each non-empty chunk is one message, in order."""
    exchange = await run_exchange(
        target.app,
        "POST",
        BYTES_PATH,
        bytes_params([len(c) for c in chunks]),
        b"".join(chunks),
        prefix=target.prefix,
    )
    expect(exchange.status, 200, "status of POST /conformance/bytes")
    bodies = [
        bytes(m.get("body", b"")) for m in exchange.body_messages if m.get("more_body", False)
    ]
    expect(
        [b for b in bodies if b],
        [c for c in chunks if c],
        "bodies of the messages with more_body true",
    )


FINAL = chapter.rule(
    "CHUNK-MSG-02",
    MUST,
    "A finite stream ends with exactly one http.response.body message with more_body false, "
    "sent after its last chunk, and nothing is sent after it.",
    ASGI_BODY,
    why='Without the final message the server cannot end the body: uvicorn logs "ASGI callable '
    'returned without completing response." and closes the connection, so the client sees a '
    "cut body (no last chunk) although every item was sent; a message after the final one "
    'makes uvicorn raise `RuntimeError` ("Unexpected ASGI message … sent, after response '
    'already completed").',
)


@requires("text")
@FINAL.check
async def check_stream_ends_with_one_final_message(target: Target) -> None:
    """A text stream and an empty one each end with one final message, the last one sent."""
    for chunks in (TEXT_CHUNKS, []):
        exchange = await run_exchange(
            target.app, "GET", TEXT_PATH, text_params(chunks), prefix=target.prefix
        )
        what = f"the stream of {len(chunks)} chunks"
        if exchange.app_error is not None:
            violation(f"{what}: the app's messages", "a valid sequence", str(exchange.app_error))
        flags = [bool(m.get("more_body", False)) for m in exchange.body_messages]
        expect(flags.count(False), 1, f"{what}: messages with more_body false")
        expect(flags[-1:], [False], f"{what}: more_body of the last message")
        expect(exchange.body, "".join(chunks).encode(), f"{what}: body")


LAST_CHUNK = chapter.rule(
    "CHUNK-WIRE-01",
    MUST,
    "Over HTTP/1.1 a stream of unknown length is sent with the chunked transfer coding and "
    "ends with a valid last chunk, so the client can tell a complete body from a cut one.",
    CHUNKED,
)


@requires("text")
@LAST_CHUNK.check
async def check_stream_ends_with_last_chunk(live_url: str) -> None:
    """Read off a raw socket and parsed by h11, the text stream is chunked and ends properly.

    A second request follows on the same connection: anything sent after the
    last chunk would spoil its response.
    """
    for chunks in (TEXT_CHUNKS, []):
        response = await read_whole(
            live_url, "GET", TEXT_PATH, text_params(chunks), then_again=True
        )
        what = f"the stream of {len(chunks)} chunks on the wire"
        expect(response.status, 200, f"{what}: status")
        if response.header("content-length") is not None:
            violation(f"{what}: framing", "chunked, no Content-Length", response.headers)
        expect(response.chunked, True, f"{what}: Transfer-Encoding ends with chunked")
        expect(response.complete, True, f"{what}: last chunk received")
        expect(response.body, "".join(chunks).encode(), f"{what}: body")


HELD_BACK = chapter.rule(
    "CHUNK-FLOW-01",
    MUST,
    "Nothing is held back: the client has received chunk k before the producer is asked "
    "for chunk k+1.",
    ASGI_BODY,
)


@requires("text", "gates")
@HELD_BACK.check
async def check_nothing_held_back_in_messages(target: Target) -> None:
    """At the message level: while the producer waits before chunk k+1, chunks 1..k are sent."""
    await assert_nothing_held_back_in_messages(
        target.app,
        TEXT_PATH,
        text_params(TEXT_CHUNKS),
        _encoded(TEXT_CHUNKS),
        "GET /conformance/text",
        prefix=target.prefix,
    )


@requires("text", "gates")
@HELD_BACK.check
async def check_nothing_held_back_on_socket(live_url: str) -> None:
    """Over a real socket: while the producer waits before chunk k+1, chunks 1..k arrive."""
    await assert_nothing_held_back_on_socket(
        live_url,
        TEXT_PATH,
        text_params(TEXT_CHUNKS),
        _encoded(TEXT_CHUNKS),
        "GET /conformance/text",
    )


FIRST_BYTE = chapter.rule(
    "CHUNK-FLOW-02",
    MUST,
    "The status, headers and first chunk reach the client while the producer is still "
    "blocked before its second chunk, however long the stream.",
    TUTORIAL_WHY,
    why="A server that waits for a second chunk, or for a buffer to fill, before it sends "
    "anything makes the first byte wait for the producer: a stream whose items come a "
    "minute apart shows nothing for a minute, and a proxy's read timeout (nginx's "
    "`proxy_read_timeout`, 60 s by default) can end it before it has started.",
)

LONG_STREAM = ["first chunk\n", *(["more\n"] * 300)]
"""A stream of 301 chunks: its first must not wait for the other 300."""


@requires("text", "gates")
@FIRST_BYTE.check
async def check_first_chunk_sent_while_producer_blocked(target: Target) -> None:
    """At the message level: the start and chunk 1 are sent while the producer waits."""
    gate = new_gate()
    control = GateControl(AsgiClient(target.app, prefix=target.prefix))
    params = [*text_params(LONG_STREAM), ("gate", gate)]
    scope = harness.build_scope("GET", TEXT_PATH, params=params, prefix=target.prefix)
    async with harness.exchange(target.app, scope) as exchange, control.unlocked_on_exit(gate):
        unheld = await control.held_after(gate, 1)
        kinds = [m["type"] for m in exchange.messages]
        sent = b"".join(sent_bodies(exchange))
    # Judged outside the exchange, whose task group would wrap the verdict.
    if unheld:
        not_observable(unheld)
    expect(kinds[:1], ["http.response.start"], "messages sent while the producer waits")
    expect(sent, LONG_STREAM[0].encode(), "body sent while the producer waits before chunk 2")


@requires("text", "gates")
@FIRST_BYTE.check
async def check_first_chunk_arrives_while_producer_blocked(live_url: str) -> None:
    """Over a real socket: status, headers and chunk 1 arrive while the producer waits."""
    gate = new_gate()
    control = GateControl(SocketClient(live_url))
    params = [*text_params(LONG_STREAM), ("gate", gate)]
    first = LONG_STREAM[0].encode()
    async with (
        open_raw(live_url, "GET", TEXT_PATH, params=params) as raw,
        control.unlocked_on_exit(gate),
    ):
        unheld = await control.held_after(gate, 1)
        if unheld:
            not_observable(unheld)
        waited = await within(arrival_guard(), lambda: raw.body_until(len(first)))
        what = f"while the producer waits before chunk 2 (waited {waited.seconds:.1f} s)"
        expect(raw.response.status, 200, f"status received {what}")
        expect(raw.response.body, first, f"body received {what}")


REASSEMBLY = chapter.rule(
    "CHUNK-REASM-01",
    MUST,
    "For any bytes cut into any chunks (empty, one-byte or large), the body the client "
    "receives equals the bytes the producer yielded.",
    CHUNKED,
)


@requires("bytes")
@REASSEMBLY.check
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(chunks=byte_chunkings)
@example(chunks=[b"", b"\xff", b"\x00\r\n", b"", b"x" * 65536, b"\xc3"])  # not UTF-8, empties
async def check_any_bytes_reassemble_in_messages(target: Target, chunks: list[bytes]) -> None:
    """At the message level, the bodies joined equal the source, however it was cut."""
    source = b"".join(chunks)
    exchange = await run_exchange(
        target.app,
        "POST",
        BYTES_PATH,
        bytes_params([len(c) for c in chunks]),
        source,
        prefix=target.prefix,
    )
    expect(exchange.status, 200, "status of POST /conformance/bytes")
    expect(exchange.body, source, "the body, joined from its messages")


@requires("bytes")
@REASSEMBLY.check
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(chunks=byte_chunkings)
@example(chunks=[b"", b"\xff", b"\x00\r\n", b"", b"x" * 65536, b"\xc3"])  # not UTF-8, empties
async def check_any_bytes_reassemble_on_socket(live_url: str, chunks: list[bytes]) -> None:
    """Over a real socket, the body received equals the source, however it was cut."""
    source = b"".join(chunks)
    response = await read_whole(
        live_url, "POST", BYTES_PATH, bytes_params([len(c) for c in chunks]), source
    )
    expect(response.status, 200, "status of POST /conformance/bytes")
    expect(response.body, source, "the body received over the socket")


UTF8_CUTS = chapter.rule(
    "CHUNK-REASM-02",
    MUST,
    "UTF-8 text cut at any byte, inside multi-byte sequences too, reaches the client as "
    "bytes that decode to the source text.",
    CHUNKED,
    why="A layer that decodes each chunk as text on its own (to transform or log it) turns a "
    "character split between two chunks into replacement characters, and the client "
    "receives text the producer never made.",
)


@requires("bytes")
@UTF8_CUTS.check
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=text_cut_anywhere())
@example(case=("é例🎉", [b"\xc3", b"\xa9\xe4", b"\xbe", b"\x8b\xf0\x9f", b"\x8e\x89"]))
async def check_text_cut_inside_characters_decodes(
    live_url: str, case: tuple[str, list[bytes]]
) -> None:
    """Hypothesis cuts UTF-8 text anywhere; the bytes off the socket decode to the same text."""
    text, chunks = case
    response = await read_whole(
        live_url, "POST", BYTES_PATH, bytes_params([len(c) for c in chunks]), text.encode()
    )
    expect(response.status, 200, "status of POST /conformance/bytes")
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    decoded = decoder.decode(response.body, final=True)
    expect(decoded, text, "the text decoded from the bytes received")


LENGTH = chapter.rule(
    "CHUNK-LENGTH-01",
    MUST,
    "A streamed response that declares a Content-Length sends exactly that many body bytes, "
    "no more and no fewer.",
    CONTENT_LENGTH,
    why="Bytes past the declared length are read by a keep-alive client as the start of the "
    "next response (uvicorn's h11 refuses them and drops the connection, as with "
    "Starlette's `FileResponse` on a file that grew, in the README's peer matrix); a body "
    "short of it keeps the client waiting for bytes that never come.",
)

LENGTH_PARAMS = [*text_params(TEXT_CHUNKS), ("declare_length", "true")]
LENGTH_BODY = "".join(TEXT_CHUNKS).encode()


def _declared(headers: Sequence[tuple[str, str]]) -> int:
    values = [value for name, value in headers if name == "content-length"]
    if not values:
        not_observable("the target declared no Content-Length for declare_length=true")
    if len(set(values)) != 1 or not values[0].isdigit():
        violation("the Content-Length field", "one length in decimal digits", values)
    return int(values[0])


@requires("text")
@LENGTH.check
async def check_declared_length_is_sent_in_messages(target: Target) -> None:
    """At the message level, a non-ASCII text stream's bodies add up to its Content-Length."""
    exchange = await run_exchange(target.app, "GET", TEXT_PATH, LENGTH_PARAMS, prefix=target.prefix)
    expect(exchange.status, 200, "status of GET /conformance/text?declare_length=true")
    declared = _declared(exchange.headers)
    expect(len(exchange.body), declared, "body bytes sent, against the declared Content-Length")
    expect(exchange.body, LENGTH_BODY, "the body")


@requires("text")
@LENGTH.check
async def check_declared_length_is_sent_on_socket(live_url: str) -> None:
    """Over a real socket, exactly Content-Length bytes arrive, and nothing after them.

    A second request follows on the same connection: bytes sent past the
    declared length would be read as the start of its response.
    """
    async with open_raw(live_url, "GET", TEXT_PATH, params=LENGTH_PARAMS) as raw:
        with anyio.fail_after(_EXCHANGE_GUARD_SECONDS):
            try:
                response = await raw.to_end()
            except WireError as error:
                declared = _declared(raw.response.headers)
                violation(
                    "the body received for the declared Content-Length",
                    f"{declared} bytes",
                    f"{len(raw.response.body)} bytes, then: {error}",
                )
            try:
                await raw.again("GET", TEXT_PATH)
            except WireError as error:
                violation(
                    "the next response on the connection",
                    "a well-formed response: no body bytes past the declared Content-Length",
                    str(error),
                )
    declared = _declared(response.headers)
    expect(len(response.body), declared, "body bytes received, against Content-Length")
    expect(response.body, LENGTH_BODY, "the body")


LOG_ARRIVAL = chapter.rule(
    "CHUNK-LOG-01",
    MUST,
    "Each line of a text log stream reaches the client as it is produced: line k arrives "
    "before line k+1 is made.",
    TUTORIAL_LOG,
)


@requires("log", "gates")
@LOG_ARRIVAL.check
async def check_log_lines_sent_as_produced(target: Target) -> None:
    """At the message level: while line k+1 is not made, lines 1..k are sent."""
    await assert_nothing_held_back_in_messages(
        target.app,
        LOG_PATH,
        log_params(LOG_LINES),
        _log_bytes(LOG_LINES),
        "GET /conformance/log",
        prefix=target.prefix,
    )


@requires("log", "gates")
@LOG_ARRIVAL.check
async def check_log_lines_arrive_as_produced(live_url: str) -> None:
    """Over a real socket: while line k+1 is not made, lines 1..k have arrived."""
    await assert_nothing_held_back_on_socket(
        live_url, LOG_PATH, log_params(LOG_LINES), _log_bytes(LOG_LINES), "GET /conformance/log"
    )


LOG_LINES_RULE = chapter.rule(
    "CHUNK-LOG-02",
    MUST,
    "Every line of a text log stream ends with a real line feed (byte 0x0A), and the lines "
    "arrive in order and unaltered.",
    TUTORIAL_LOG,
    why="Clients read a log by lines (`curl -N | grep --line-buffered`, httpx's "
    "`iter_lines()`), and a line reaches them only with its line feed: the tutorial as "
    "published ends its lines with a letter `n`, so such a client gets no line at all until "
    "the stream ends, and then one.",
)


@requires("log")
@LOG_LINES_RULE.check
async def check_log_lines_end_with_line_feed(stream_client: StreamClient) -> None:
    """Five lines (an empty one, non-ASCII ones, a tab) arrive as five LF-terminated lines."""
    fetched = await fetch(stream_client, "GET", LOG_PATH, params=log_params(LOG_LINES))
    expect(fetched.status, 200, "status of GET /conformance/log")
    lines = fetched.body.split(b"\n")
    expect(lines[-1], b"", "what follows the last line feed")
    expect(
        [line.decode("utf-8", "replace") for line in lines[:-1]],
        LOG_LINES,
        "the lines, split at line feeds",
    )
