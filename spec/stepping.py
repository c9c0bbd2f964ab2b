"""Step through a paced stream: let one item be produced, see it arrive, then the next.

This is how the suite shows that each item reaches the client before the next
one exists, through whatever sits in between (a compressing middleware, a
proxy): the producer makes item *i* only after the go-ahead, and the go-ahead
for item *i + 1* is given only once item *i* has been read and decoded. An
intermediary that holds bytes back makes the step wait; the hang guard turns
the wait into a :class:`~spec.rules.RuleViolation` that names the item.

A paced stream that gets no go-ahead stays before its first item, so the same
machinery shows when the headers leave (see :func:`open_paced`).
"""

from __future__ import annotations

import os
import zlib
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio

from spec.rules import violation
from spec.sse import Decoder, Event, MessageEvent
from spec.sse.model import expected_observation
from spec.streams import Fetched, fetch
from spec.surface_hdr import (
    PACED_NEXT_PATH,
    PACED_SSE_PATH,
    PACED_TEXT_PATH,
    new_pace_key,
    paced_sse_params,
    paced_text_params,
)
from spec.targets.client import Headers, StreamClient, StreamedResponse

STEP_GUARD_SECONDS = float(os.environ.get("STREAMSPEC_STEP_GUARD", "5"))
"""How long a step may wait for its item before it counts as held back (a hang guard).

``STREAMSPEC_STEP_GUARD`` sets it; the suite's own tests shorten it where items
are expected to be held back.
"""


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
class PacedStream:
    """An open paced stream: its response, and a reader that decodes what has arrived."""

    client: StreamClient
    key: str
    response: StreamedResponse
    _chunks: AsyncIterator[bytes]
    _content: ContentDecoder
    raw: list[bytes] = field(default_factory=list)
    given: int = 0
    _decoded: bytes = b""

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((value for key, value in self.response.headers if key == name), None)

    async def go(self) -> None:
        """Give the producer one more go-ahead."""
        await _go(self.client, self.key)
        self.given += 1

    async def go_for(self, number: int) -> None:
        """Make sure item *number* (counting from 1) may be produced."""
        while self.given < number:
            await self.go()

    async def read_until(self, done: Callable[[bytes], bool], what: str) -> bytes:
        """Read (content-decoded) until ``done(all decoded bytes so far)``; fail if held back."""
        decoded = self._decoded
        with anyio.move_on_after(STEP_GUARD_SECONDS) as guard:
            while not done(decoded):
                try:
                    chunk = await self._chunks.__anext__()
                except StopAsyncIteration:
                    break
                self.raw.append(chunk)
                decoded += self._content.feed(chunk)
        self._decoded = decoded
        if not done(decoded):
            held = "held back" if guard.cancelled_caught else "missing: the stream ended"
            violation(
                what,
                "delivered before the next item is produced",
                f"{held}; got {decoded[-200:]!r}",
            )
        return decoded


async def _go(client: StreamClient, key: str) -> None:
    fetched = await fetch(client, "GET", PACED_NEXT_PATH, params=[("pace", key)])
    if fetched.status >= 300:
        violation("the answer to GET /conformance/paced/next", "a 2xx", fetched.status)


async def fetch_paced(
    client: StreamClient, kind: str, items: Sequence[Event] | Sequence[str]
) -> Fetched:
    """A paced stream read whole, every go-ahead given before the request (no stepping)."""
    key = new_pace_key()
    for _ in items:
        await _go(client, key)
    if kind == "sse":
        events = [i for i in items if isinstance(i, Event)]
        return await fetch(client, "GET", PACED_SSE_PATH, params=paced_sse_params(events, key))
    chunks = [i for i in items if isinstance(i, str)]
    return await fetch(client, "GET", PACED_TEXT_PATH, params=paced_text_params(chunks, key))


@asynccontextmanager
async def open_paced(
    client: StreamClient,
    kind: str,
    items: Sequence[Event] | Sequence[str],
    *,
    path_prefix: str = "",
    request_headers: Headers = (),
    custom_headers: dict[str, str] | None = None,
    first_item_ready: bool = False,
) -> AsyncIterator[PacedStream]:
    """Open a paced stream of *kind* (``"sse"`` or ``"text"``).

    Fails the check (a RuleViolation) if the status and headers do not arrive
    while the producer waits for its first go-ahead. With *first_item_ready*
    the first item is let go before the request is made: for a path that may
    hold the headers until it has seen the first body bytes (GZipMiddleware
    does, to decide whether to compress).
    """
    key = new_pace_key()
    if first_item_ready:
        await _go(client, key)
    if kind == "sse":
        path = PACED_SSE_PATH
        params = paced_sse_params([i for i in items if isinstance(i, Event)], key, custom_headers)
    else:
        path = PACED_TEXT_PATH
        params = paced_text_params([i for i in items if isinstance(i, str)], key, custom_headers)
    ready = anyio.Event()
    finished = anyio.Event()
    held: dict[str, StreamedResponse] = {}
    failure: list[Exception] = []

    async def hold_open() -> None:
        """Keep the request open in a task of its own, so waiting for it can be guarded."""
        try:
            async with client.stream(
                "GET", path_prefix + path, params=params, headers=request_headers
            ) as response:
                held["response"] = response
                ready.set()
                await finished.wait()
        except Exception as error:  # handed to the check below
            failure.append(error)
        finally:
            ready.set()

    raised: list[Exception] = []
    async with anyio.create_task_group() as group:
        group.start_soon(hold_open)
        with anyio.move_on_after(STEP_GUARD_SECONDS):
            await ready.wait()
        try:
            response = _opened(kind, held, failure)
            coding = (
                None if response.status >= 300 else dict(response.headers).get("content-encoding")
            )
            yield PacedStream(
                client,
                key,
                response,
                response.chunks().__aiter__(),
                ContentDecoder(coding),
                given=1 if first_item_ready else 0,
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


def _opened(
    kind: str, held: dict[str, StreamedResponse], failure: list[Exception]
) -> StreamedResponse:
    """The response that arrived, or the reason it did not, raised."""
    if failure:
        raise failure[0]
    if "response" not in held:
        violation(
            f"the headers of the paced {kind} stream",
            "sent before the producer's first item is ready",
            f"nothing within {STEP_GUARD_SECONDS}s while the producer waited",
        )
    return held["response"]


async def step_events(stream: PacedStream, events: Sequence[Event]) -> None:
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


async def step_chunks(stream: PacedStream, chunks: Sequence[str]) -> None:
    """Release text *chunks* one at a time; each must be readable before the next is made."""
    for number in range(1, len(chunks) + 1):
        await stream.go_for(number)
        want = "".join(chunks[:number]).encode()

        def done(decoded: bytes, want: bytes = want) -> bool:
            return len(decoded) >= len(want)

        decoded = await stream.read_until(done, f"chunk {number} of {len(chunks)}")
        if decoded[: len(want)] != want:
            violation(f"the text read after chunk {number}", want, decoded)
