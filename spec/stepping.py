"""Step through a gated stream: let one item be produced, see it arrive, then the next.

This is how the suite shows that each item reaches the client before the next
one exists, through whatever sits in between (a compressing middleware, a
proxy). The stream is one of the surface's, asked for with a gate (see
:mod:`spec.gates`) and ``gate_first=true``: the producer makes item *i* only
after the gate's opening *i + 1*, and that opening is given only once item
*i - 1* has been read and decoded. An intermediary that holds bytes back makes
the step wait; the hang guard turns the wait into a
:class:`~spec.rules.RuleViolation` that names the item.

A gated stream that is never opened stays before its first item, so the same
machinery shows when the headers leave (see :func:`open_stepped`).
"""

from __future__ import annotations

import contextlib
import json
import zlib
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio

from spec.gates import GateControl, GateControlError, arrival_guard, new_gate
from spec.patience import within
from spec.rules import violation
from spec.sse import Decoder, Event, MessageEvent
from spec.sse.model import expected_observation
from spec.streams import Fetched, fetch
from spec.surface import CHAT_PATH, NDJSON_PATH, SSE_PATH, TEXT_PATH, sse_params, text_params
from spec.surface_hdr import headers_params
from spec.targets.client import Headers, Params, StreamClient, StreamedResponse


class ContentDecoder:
    """Removes a gzip or deflate content coding as bytes arrive (identity passes through)."""

    def __init__(self, coding: str | None) -> None:
        coding = (coding or "identity").strip().lower()
        if coding in ("gzip", "x-gzip"):
            self._zlib: zlib._Decompress | None = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif coding == "deflate":
            self._zlib = zlib.decompressobj()
        elif coding == "identity":
            self._zlib = None
        else:
            violation("the Content-Encoding of the stream", "identity, gzip or deflate", coding)

    def feed(self, data: bytes) -> bytes:
        if self._zlib is None:
            return data
        try:
            return self._zlib.decompress(data)
        except zlib.error as error:
            violation("the content-coded body", "bytes that decode", f"zlib: {error}")


@dataclass
class SteppedStream:
    """An open gated stream: its response, and a reader that decodes what has arrived.

    ``ready`` counts the items the producer may make so far (the openings of
    its gate, plus one when the first item was let go at once).
    """

    control: GateControl
    gate: str
    response: StreamedResponse
    _chunks: AsyncIterator[bytes]
    _content: ContentDecoder
    raw: list[bytes] = field(default_factory=list)
    ready: int = 0
    _decoded: bytes = b""

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((value for key, value in self.response.headers if key == name), None)

    async def go_for(self, number: int) -> None:
        """Make sure item *number* (counting from 1) may be produced."""
        while self.ready < number:
            await self.control.open(self.gate)
            self.ready += 1

    async def read_until(self, done: Callable[[bytes], bool], what: str) -> bytes:
        """Read (content-decoded) until ``done(all decoded bytes so far)``; fail if held back."""
        decoded = self._decoded

        async def read() -> None:
            nonlocal decoded
            while not done(decoded):
                try:
                    chunk = await self._chunks.__anext__()
                except StopAsyncIteration:
                    return
                self.raw.append(chunk)
                decoded += self._content.feed(chunk)

        waited = await within(arrival_guard(), read)
        self._decoded = decoded
        if not done(decoded):
            held = (
                "missing: the stream ended"
                if waited.arrived
                else f"held back: not arrived within {waited.seconds:.1f} s"
            )
            violation(
                what,
                "delivered before the next item is produced",
                f"{held}; got {decoded[-200:]!r}",
            )
        return decoded


async def fetch_gated(
    client: StreamClient,
    kind: str,
    items: Sequence[Event] | Sequence[str],
    *,
    custom_headers: dict[str, str] | None = None,
) -> Fetched:
    """A stream asked for as the stepping checks ask for it (gated before its first item,
    with *custom_headers*), its gate opened for good once the producer waits, read whole."""
    gate = new_gate()
    control = GateControl(client)
    path, params = _stream_request(kind, items, custom_headers)
    params = [*params, ("gate", gate), ("gate_first", "true")]
    fetched: list[Fetched] = []

    async def release() -> None:
        with contextlib.suppress(GateControlError):
            await control.wait(gate)
        await control.unlock(gate)

    async with anyio.create_task_group() as group:
        group.start_soon(release)
        method, body = _request_body(kind, items)
        fetched.append(await fetch(client, method, path, params=params, body=body))
        group.cancel_scope.cancel()
    return fetched[0]


@asynccontextmanager
async def open_stepped(
    client: StreamClient,
    kind: str,
    items: Sequence[Event] | Sequence[str],
    *,
    path_prefix: str = "",
    request_headers: Headers = (),
    custom_headers: dict[str, str] | None = None,
    first_item_ready: bool = False,
) -> AsyncIterator[SteppedStream]:
    """Open a gated stream of *kind* (``"sse"``, ``"text"``, ``"ndjson"`` or ``"chat"``: a
    chat's items are its tokens) at *path_prefix*.

    The gate is controlled through *client* at the surface's own paths, and
    opened for good on the way out. Fails the check (a RuleViolation) if the
    status and headers do not arrive while the producer waits before its first
    item. With *first_item_ready* the first item is made at once (no
    ``gate_first``): for a path that may hold the headers until it has seen the
    first body bytes (GZipMiddleware does, to decide whether to compress).
    """
    gate = new_gate()
    control = GateControl(client)
    path, params = _stream_request(kind, items, custom_headers)
    params = [*params, ("gate", gate)]
    if not first_item_ready:
        params.append(("gate_first", "true"))
    method, body = _request_body(kind, items)
    ready = anyio.Event()
    finished = anyio.Event()
    held: dict[str, StreamedResponse] = {}
    failure: list[Exception] = []

    async def hold_open() -> None:
        """Keep the request open in a task of its own, so waiting for it can be guarded."""
        try:
            async with client.stream(
                method, path_prefix + path, params=params, headers=request_headers, body=body
            ) as response:
                held["response"] = response
                ready.set()
                await finished.wait()
        except Exception as error:  # handed to the check below
            failure.append(error)
        finally:
            ready.set()

    raised: list[Exception] = []
    async with control.unlocked_on_exit(gate), anyio.create_task_group() as group:
        group.start_soon(hold_open)
        await within(arrival_guard(), ready.wait)
        try:
            response = _opened(kind, held, failure)
            coding = (
                None if response.status >= 300 else dict(response.headers).get("content-encoding")
            )
            yield SteppedStream(
                control,
                gate,
                response,
                response.chunks().__aiter__(),
                ContentDecoder(coding),
                ready=1 if first_item_ready else 0,
            )
        except Exception as error:  # raised again outside the task group, unwrapped
            raised.append(error)
        finally:
            finished.set()
            if "response" not in held:
                group.cancel_scope.cancel()
    if raised:
        raise raised[0]
    if failure:
        raise failure[0]  # the request failed on closing (the app outlived its client, say)


def _stream_request(
    kind: str, items: Sequence[Event] | Sequence[str], custom_headers: dict[str, str] | None
) -> tuple[str, list[tuple[str, str]]]:
    """The surface path and parameters streaming *items* of *kind* with *custom_headers*."""
    extra: Params = () if custom_headers is None else headers_params(custom_headers)
    if kind == "sse":
        return SSE_PATH, [*sse_params([i for i in items if isinstance(i, Event)]), *extra]
    if kind == "ndjson":  # string records (spec.kit.records)
        return NDJSON_PATH, [("records", json.dumps([i for i in items if isinstance(i, str)]))]
    if kind == "chat":  # tokens, in the request's body (spec.kit.chat)
        return CHAT_PATH, []
    return TEXT_PATH, [*text_params([i for i in items if isinstance(i, str)]), *extra]


def _request_body(kind: str, items: Sequence[Event] | Sequence[str]) -> tuple[str, bytes]:
    """The method and body that ask for *items* of *kind*: a chat's tokens are POSTed, in
    the ``openai`` style (``POST /conformance/chat``); every other stream is a GET."""
    if kind != "chat":
        return "GET", b""
    tokens = [item for item in items if isinstance(item, str)]
    return "POST", json.dumps({"tokens": tokens, "style": "openai"}).encode()


def _opened(
    kind: str, held: dict[str, StreamedResponse], failure: list[Exception]
) -> StreamedResponse:
    """The response that arrived, or the reason it did not, raised."""
    if failure:
        raise failure[0]
    if "response" not in held:
        violation(
            f"the headers of the gated {kind} stream",
            "sent before the producer's first item is ready",
            f"nothing within {arrival_guard()}s while the producer waited",
        )
    return held["response"]


async def step_events(stream: SteppedStream, events: Sequence[Event]) -> None:
    """Release *events* one at a time; each must be dispatched before the next is made."""
    decoder = Decoder()
    expected = list(expected_observation(events).events)
    seen: list[MessageEvent] = []
    fed = 0

    for number in range(1, len(events) + 1):
        await stream.go_for(number)
        want = expected[: _dispatched_by(events, number)]

        def done(decoded: bytes, want: list[MessageEvent] = want) -> bool:
            nonlocal fed
            seen.extend(i for i in decoder.feed(decoded[fed:]) if isinstance(i, MessageEvent))
            fed = len(decoded)
            return len(seen) >= len(want)

        await stream.read_until(done, f"event {number} of {len(events)}")
        if seen[: len(want)] != want:
            violation(f"the events dispatched after event {number}", want, seen)


def _dispatched_by(events: Sequence[Event], number: int) -> int:
    return len(expected_observation(events[:number]).events)


async def step_chunks(stream: SteppedStream, chunks: Sequence[str]) -> None:
    """Release text *chunks* one at a time; each must be readable before the next is made."""
    for number in range(1, len(chunks) + 1):
        await stream.go_for(number)
        want = "".join(chunks[:number]).encode()

        def done(decoded: bytes, want: bytes = want) -> bool:
            return len(decoded) >= len(want)

        decoded = await stream.read_until(done, f"chunk {number} of {len(chunks)}")
        if decoded[: len(want)] != want:
            violation(f"the text read after chunk {number}", want, decoded)
