"""Cancellation and cleanup: a stream ends when its client leaves, and leaves nothing behind.

A streaming response is a producer (a generator, a database cursor, a model
emitting tokens) tied to one client. When the client goes away (a closed
tab, a dropped network, a proxy timing out) the producer must stop, and its
`finally` blocks and `async with` exits must run: they close the cursor,
release the file, tell the model to stop. Tutorial code gets this wrong in two
opposite ways:

* a generator that never awaits anything between items is never interrupted:
  with uvicorn, `send()` returns without yielding to the event loop, so
  Starlette's disconnect listener never runs, the producer goes on for tens of
  thousands of items after the client left, and the whole server answers no
  one meanwhile;
* polling `await request.is_disconnected()` before every item notices a
  disconnect, but only between items (not while the producer waits), and at
  the cost of a round trip through `receive()` per item (about five times
  slower in our measurements).

The right shape is one task waiting on `receive()` for `http.disconnect`, a
checkpoint after every item or every second one (no more than two items may
follow a disconnect), and cleanup in a shielded scope. The checks drive
the endless producers of the conformance surface (`GET /conformance/endless`,
async, sync and never-awaiting) and read what happened on the server through
`GET /conformance/observe`. Most run over a real socket and at the ASGI
message level, where the suite can deliver `http.disconnect` at an exact point
and count what the app did after it.

A resumable SSE stream gives every event an id, and a client that reconnects
with `Last-Event-ID` gets exactly what it missed. A server that shuts down
ends its streams itself, with a last event, rather than hanging or cutting
them off.

The surface's endpoints, their parameters and their defaults are in the
chapter "Conformance surface". A HEAD request to `GET /conformance/endless`
is recorded under its id like a GET (`started` false), or `CANCEL-HEAD-01`
cannot be observed. A producer that fails (`fail=N`) leaves the body
unfinished: the app raises, or returns without its final body message; both
pass `CANCEL-ERROR-01`, a body completed after the error does not.

While a CANCEL check runs, the suite turns Python's cyclic garbage collector
off in its own process (where an ASGI target runs): a producer that its library
never closes is finalized whenever the collector next finds it, so its cleanup
would run, or not, by luck. A cleanup counts when the library closes or cancels
the producer, or drops its last reference.

## Shutdown

The shutdown checks need a target the suite can import: an ASGI app named
`module:attr`. The streams they hold open are
`GET /conformance/sse?events=[{"data":"hello"}]&hold=true&keepalive=0`: one
event, `hello`, then nothing at all until the client leaves or the server
shuts down. After SIGTERM each held stream must send at least one more event,
of any type and data (it must have a `data` field: an event without one is
never dispatched to a client; the reference sends `event: shutdown`,
`data: server shutting down`, `retry: 3000`), then end its body properly
(the last chunk), within 10 s. Nothing else may arrive before SIGTERM: a held
stream that ends, or sends a second event, before the signal fails.

* `CANCEL-SHUTDOWN-01` starts the target as
  `python -m uvicorn module:attr --host 127.0.0.1 --port PORT` (uvicorn's
  defaults otherwise: lifespan `auto`, no `--timeout-graceful-shutdown`),
  holds two streams, sends SIGTERM, and requires both to end so, and the
  process to exit within 10 s.
* `CANCEL-SHUTDOWN-02` runs `python -m spec.targets.serve_twice module:attr
  PORT1 PORT2`: the same app object served by one uvicorn server, then, once
  that has shut down, by a second, in the main thread of one process, each
  server with its own lifespan startup and shutdown. The first server gets
  one held stream and SIGTERM: that stream must end as above (a first server
  that never shuts its stream down fails the rule: nothing then shows that its
  shutdown stays out of the second). The second server gets a held stream,
  which must send `hello` and stay open while the suite reads a finite stream
  (`events=[{"data":"a"},{"data":"b"},{"data":"c"}]`, complete) from the same
  server, then SIGTERM, after which the held stream must end as above.

How an app learns of SIGTERM under uvicorn: it is not told. uvicorn (0.29 and
later) replaces the SIGTERM and SIGINT handlers with its own
(`Server.handle_exit`) as it starts serving, before the lifespan startup, and
puts the previous handlers back once it has shut down. On SIGTERM it stops
accepting connections and waits for the open responses to end; the lifespan
shutdown comes only after the last one has ended, so a stream that waits for
the lifespan shutdown waits for ever, and so does the server. The app must
hook the signal itself while it is served: at lifespan startup, when uvicorn's
handler is in place, install a handler for SIGTERM (and SIGINT) that notes the
shutdown for this app, from the event loop's thread
(`loop.call_soon_threadsafe`), and then calls the handler it replaced, so that
uvicorn shuts down as it meant to; put uvicorn's handler back at lifespan
shutdown. A handler installed when the module is imported is replaced, or
replaces uvicorn's, depending on when the server imports the app. The note
must belong to one serving of the app: reset it at each lifespan startup. A
process-wide flag that is never lowered (a patch of `uvicorn.Server.handle_exit`,
sse-starlette's `AppStatus`) ends the streams of a later server at once, which
`CANCEL-SHUTDOWN-02` fails. The reference does this in `impl/lifecycle.py`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spec.capabilities import requires
from spec.patience import guarded, patience, within
from spec.rules import MUST, SHOULD, Chapter, Source, expect, not_observable, violation
from spec.sources import (
    ASGI_DISCONNECT,
    CHUNKED,
    SSE_AUTHORING,
    SSE_LAST_EVENT_ID,
)
from spec.sse import Comment, Decoder, Event, MessageEvent
from spec.sse.model import as_dispatched
from spec.streams import Fetched, fetch
from spec.surface import ENDLESS_PATH, FEED_PATH, OBSERVE_PATH, SSE_PATH, sse_params
from spec.targets import harness
from spec.targets.client import SocketClient, StreamClient
from spec.targets.process import Child, free_port, run_child, uvicorn_command
from spec.targets.target import Target
from spec.wire import base_path

chapter = Chapter(__name__)

RFC9110_HEAD = Source(
    "RFC 9110", "9.3.2 HEAD", "https://www.rfc-editor.org/rfc/rfc9110#section-9.3.2"
)
STREAMSPEC = Source("streamspec", "Cancellation and cleanup", "#cancel")

KINDS = ("async", "sync", "busy")
#: Long enough that a producer stopped by the disconnect never reaches it.
LIMIT = 50_000
#: Seconds a check waits for something a correct target does at once: a hang guard, which a
#: correct target never comes near (``STREAMSPEC_HANG_GUARD`` changes it). What a broken
#: target may never do (clean up, time out, send a keep-alive) is waited for within a
#: load-aware window instead (:mod:`spec.patience`), and the window's end is the verdict.
GUARD = float(os.environ.get("STREAMSPEC_HANG_GUARD", "10"))
FEED_CAPACITY = 64
#: Statuses that say the target does not offer an endpoint of the surface.
_NOT_IMPLEMENTED = (404, 405, 501)


def new_id() -> str:
    return uuid.uuid4().hex


def endless(stream_id: str, kind: str = "async", **options: int | float) -> list[tuple[str, str]]:
    """Query parameters for ``GET /conformance/endless``."""
    return [("id", stream_id), ("kind", kind), *((k, str(v)) for k, v in options.items())]


async def observe(
    client: StreamClient,
    stream_id: str,
    until: str | None = None,
    poll: float | None = None,
    *,
    unknown: str = "the target does not serve it, or recorded nothing under the stream's id",
) -> dict[str, Any]:
    """What the target reports about stream *stream_id*, waiting *until* something happened
    (for at most *poll* seconds on the target's side, :data:`GUARD` by default).

    A 404, 405 or 501 ends the check as not observable, *unknown* saying why.
    """
    params = [("id", stream_id)]
    if until is not None:
        params += [("until", until), ("timeout", f"{GUARD if poll is None else poll:g}")]
    fetched = await fetch(client, "GET", OBSERVE_PATH, params=params)
    if fetched.status in _NOT_IMPLEMENTED:
        not_observable(f"GET {OBSERVE_PATH} answered {fetched.status}: {unknown}")
    expect(fetched.status, 200, f"status of GET {OBSERVE_PATH}")
    facts: dict[str, Any] = json.loads(fetched.body)
    return facts


async def observe_until(client: StreamClient, stream_id: str, until: str) -> dict[str, Any]:
    """What the target reports about *stream_id* once *until* is true, or once the window ran out.

    The window is load-aware (:func:`spec.patience.within`); the target's long
    poll is asked again while it runs, so that a slow machine stretches the
    wait instead of failing a correct target. A broken target that never
    reports *until* costs one window.
    """

    async def poll() -> dict[str, Any]:
        while True:
            facts = await observe(client, stream_id, until=until, poll=patience())
            if facts.get(until):
                return facts

    waited = await within(patience(), poll)
    if waited.arrived and waited.value is not None:
        return waited.value
    return await observe(client, stream_id)


def app_of(target: Target) -> Any:
    app = getattr(target, "app", None)
    if app is None:
        not_observable("the target is not an ASGI app, so the suite cannot deliver http.disconnect")
    return app


@asynccontextmanager
async def asgi_exchange(
    target: Target, path: str, params: list[tuple[str, str]], **options: Any
) -> AsyncIterator[harness.Exchange]:
    scope = harness.build_scope("GET", path, params=params, prefix=target.prefix)
    async with harness.exchange(app_of(target), scope, **options) as exchange:
        with guarded(f"the response start of GET {path}", GUARD):
            await exchange.wait_start()
        yield exchange


def endless_items(body: bytes, content_type: str | None) -> bytes:
    """The items of an endless stream's *body* as numbered lines (``b"1\\n2\\n"``), whether it
    was served as ``text/plain`` lines or as ``text/event-stream``, one event per item (see the
    chapter "Conformance surface"); an SSE event not yet terminated is not an item yet."""
    if (content_type or "").split(";")[0].strip().lower() != "text/event-stream":
        return body
    decoder = Decoder()
    events = [item for item in decoder.feed(body) if isinstance(item, MessageEvent)]
    return b"".join(event.data.encode() + b"\n" for event in events)


async def read_items(response: Any, expected: bytes) -> bytes:
    """Read the endless stream's body until its items (:func:`endless_items`) are at least as
    long as *expected* (or the body ends); return those items."""
    content_type = dict(response.headers).get("content-type")
    received = b""
    with guarded(f"the first items of the endless stream ({expected!r})", GUARD):
        async for chunk in response.chunks():
            received += chunk
            if len(endless_items(received, content_type)) >= len(expected):
                break
    return endless_items(received, content_type)


async def read_bytes(response: Any, at_least: int) -> bytes:
    """Read the body until *at_least* bytes have arrived (or it ends)."""
    received = b""
    with guarded(f"the first {at_least} body bytes", GUARD):
        async for chunk in response.chunks():
            received += chunk
            if len(received) >= at_least:
                break
    return received


def expect_cleanup(facts: dict[str, Any], what: str) -> None:
    expect(facts.get("cleanup"), True, f"the producer's cleanup ran {what}")


def expect_stopped(facts: dict[str, Any], limit: int, what: str) -> None:
    if facts.get("produced", 0) >= limit:
        violation(
            f"items produced {what}",
            f"the producer stopped well before its limit of {limit}",
            f"it produced all {facts.get('produced')} (it was never stopped)",
        )


# --- The client leaves ------------------------------------------------------------

CLEANUP = chapter.rule(
    "CANCEL-CLEANUP-01",
    MUST,
    "When the client disconnects, the producer stops and its cleanup (finally blocks, "
    "async with exits) runs, whether it is an async generator, a sync generator run in "
    "a thread, or a generator that never awaits.",
    ASGI_DISCONNECT,
)


@requires("endless", "observe")
@CLEANUP.check
@pytest.mark.parametrize("kind", KINDS)
async def check_cleanup_runs_after_disconnect(stream_client: StreamClient, kind: str) -> None:
    """Read the first items, disconnect, and wait for the producer's ``finally`` to report."""
    stream_id = new_id()
    params = endless(stream_id, kind, limit=LIMIT)
    async with stream_client.stream("GET", ENDLESS_PATH, params=params) as response:
        expect(response.status, 200, "status of the endless stream")
        await read_bytes(response, 4)
    facts = await observe_until(stream_client, stream_id, "cleanup")
    expect_cleanup(facts, f"after the client of a {kind} producer left")
    expect_stopped(facts, LIMIT, f"by a {kind} producer whose client left")


PROMPT = chapter.rule(
    "CANCEL-PROMPT-01",
    MUST,
    "Once the server has delivered http.disconnect, the producer is asked for at most "
    "two more items, even if neither it nor send() ever yields to the event loop.",
    ASGI_DISCONNECT,
)


@requires("endless", "observe")
@PROMPT.check
@pytest.mark.parametrize("kind", KINDS)
async def check_at_most_two_items_after_disconnect(target: Target, kind: str) -> None:
    """The client leaves after three body messages; count the items made after that."""
    stream_id = new_id()
    params = endless(stream_id, kind, limit=LIMIT)
    async with asgi_exchange(target, ENDLESS_PATH, params, disconnect_after=3) as ex:
        with guarded(f"the end of the app's call after http.disconnect ({kind})", GUARD):
            await ex.app_done.wait()
    facts = await _observe_in_process(target, stream_id)
    at_disconnect = ex.body_messages_at_disconnect or 0
    after = facts["produced"] - at_disconnect
    if after > 2:
        violation(
            f"items a {kind} producer made after http.disconnect",
            "at most 2",
            f"{after} ({facts['produced']} in all, {at_disconnect} before the disconnect)",
        )


async def _observe_in_process(target: Target, stream_id: str) -> dict[str, Any]:
    scope = harness.build_scope(
        "GET", OBSERVE_PATH, params=[("id", stream_id)], prefix=target.prefix
    )
    async with harness.exchange(app_of(target), scope) as exchange:
        with guarded(f"the answer to GET {OBSERVE_PATH}", GUARD):
            await exchange.app_done.wait()
    if exchange.status in _NOT_IMPLEMENTED:
        not_observable(f"GET {OBSERVE_PATH} answered {exchange.status}")
    expect(exchange.status, 200, f"status of GET {OBSERVE_PATH}")
    facts: dict[str, Any] = json.loads(exchange.body)
    return facts


EARLY = chapter.rule(
    "CANCEL-EARLY-01",
    MUST,
    "A disconnect before the first chunk, while the producer waits for its first item, "
    "ends the stream and runs the producer's cleanup.",
    ASGI_DISCONNECT,
)


@requires("endless", "observe")
@EARLY.check
async def check_disconnect_before_first_chunk(stream_client: StreamClient) -> None:
    """The producer blocks before its first item; the client leaves after the headers."""
    stream_id = new_id()
    async with stream_client.stream("GET", ENDLESS_PATH, params=endless(stream_id, hold=0)) as r:
        expect(r.status, 200, "status of the endless stream")
        facts = await observe_until(stream_client, stream_id, "started")
        expect(facts.get("started"), True, "the producer started")
    facts = await observe_until(stream_client, stream_id, "cleanup")
    expect_cleanup(facts, "after the client left before the first chunk")


BLOCKED = chapter.rule(
    "CANCEL-BLOCKED-01",
    MUST,
    "A disconnect while the producer waits on its own I/O interrupts the wait and runs "
    "the producer's cleanup.",
    ASGI_DISCONNECT,
)


@requires("endless", "observe")
@BLOCKED.check
async def check_disconnect_while_producer_waits(stream_client: StreamClient) -> None:
    """After three items the producer waits for ever; the client leaves after reading them."""
    stream_id = new_id()
    async with stream_client.stream("GET", ENDLESS_PATH, params=endless(stream_id, hold=3)) as r:
        received = await read_items(r, b"1\n2\n3\n")
        expect(received, b"1\n2\n3\n", "the items before the producer blocks")
    facts = await observe_until(stream_client, stream_id, "cleanup")
    expect_cleanup(facts, "after the client left while the producer waited")


SENDING = chapter.rule(
    "CANCEL-SENDING-01",
    MUST,
    "A disconnect while the server waits for the client to take a chunk ends the stream "
    "and runs the producer's cleanup.",
    ASGI_DISCONNECT,
)


@requires("endless", "observe")
@SENDING.check
@pytest.mark.parametrize("kind", KINDS)
async def check_disconnect_while_send_waits(target: Target, kind: str) -> None:
    """The client reads one message, lets the app block in ``send``, then leaves."""
    stream_id = new_id()
    limit = 2000
    params = endless(stream_id, kind, limit=limit)
    async with asgi_exchange(target, ENDLESS_PATH, params, body_buffer=0) as ex:
        body = ex.iter_body()
        with guarded("the first body message, then a send() that waits for the client", GUARD):
            await body.__anext__()
            await ex.send_blocked.wait()
        ex.disconnect()
        with guarded("the end of the app's call after http.disconnect", GUARD):
            await ex.app_done.wait()
    facts = await _observe_in_process(target, stream_id)
    expect_cleanup(facts, "after the client left while send() waited")
    expect_stopped(facts, limit, "after the client left while send() waited")


SLOW = chapter.rule(
    "CANCEL-SLOW-01",
    MUST,
    "A client that stops reading but keeps the connection open holds a stream only until "
    "the configured send timeout: then the stream ends and the producer's cleanup runs.",
    STREAMSPEC,
)


@requires("endless", "observe")
@SLOW.check
async def check_send_timeout_ends_stream_of_silent_client(target: Target) -> None:
    """At the message level: the app blocks in ``send`` for a client that reads nothing.

    The client truly stops reading (``send`` has nowhere to put the first
    message); the stream must end by itself within a load-aware window far
    longer than its 0.2 s send timeout, and its producer, if it started, be
    cleaned up.
    """
    stream_id = new_id()
    params = endless(stream_id, limit=LIMIT, send_timeout=0.2)
    async with asgi_exchange(target, ENDLESS_PATH, params, body_buffer=0) as ex:
        waited = await within(patience(), ex.app_done.wait)
        if not waited.arrived:
            violation(
                "the stream of a client that reads nothing",
                "ended by the 0.2 s send timeout",
                f"still running after {waited.seconds:.1f} s",
            )
        final = [m for m in ex.body_messages if not m.get("more_body", False)]
        expect(final, [], "a final body message (the stream must be aborted, not completed)")
    facts = await _observe_in_process(target, stream_id)
    # An app that sends its head with an empty body message first (for servers that hold
    # the head until a body message, as ASGI allows) blocks there, its producer unstarted:
    # nothing to clean up. A producer that started must have been cleaned up.
    if facts.get("started", True):
        expect_cleanup(facts, "after the send timeout")


@requires("endless", "observe")
@SLOW.check
async def check_send_timeout_over_a_socket(live_url: str) -> None:
    """Over TCP: a client requests 64 KiB items and never reads; memory stays bounded.

    The client never reads, so the socket buffers fill and the server's
    ``send`` waits for good: only then can a send timeout (0.5 s) fire. The
    cleanup is waited for within a load-aware window.
    """
    stream_client = SocketClient(live_url)
    stream_id = new_id()
    size = 65536
    query = "&".join(f"{k}={v}" for k, v in endless(stream_id, size=size, send_timeout=0.5))
    url = urlsplit(live_url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    async with await anyio.connect_tcp(host, port) as connection:
        path = base_path(live_url) + ENDLESS_PATH
        request = f"GET {path}?{query} HTTP/1.1\r\nHost: {host}\r\n\r\n"
        await connection.send(request.encode())
        facts = await observe_until(stream_client, stream_id, "cleanup")
    expect_cleanup(facts, "after a client that never read hit the send timeout")
    buffered = facts.get("produced", 0) * size
    if buffered > 64 << 20:
        violation("bytes produced for a client that reads nothing", "at most 64 MiB", buffered)


ERROR = chapter.rule(
    "CANCEL-ERROR-01",
    MUST,
    "An exception in the producer mid-stream aborts the response without its final chunk, "
    "so the client can tell the body is incomplete, and the server goes on serving.",
    CHUNKED,
)


@requires("endless")
@ERROR.check
async def check_producer_error_aborts_the_body(stream_client: StreamClient) -> None:
    """The producer raises after three items: three items arrive, and the body is never completed.

    At the message level the body is complete when the app sends its final
    ``http.response.body`` message (``more_body`` false); an app that raises,
    and one that returns without that message, both leave it unfinished, and a
    server aborts the connection for both. On the wire, the last chunk never comes.
    """
    stream_id = new_id()
    fetched = await fetch(stream_client, "GET", ENDLESS_PATH, params=endless(stream_id, fail=3))
    expect(fetched.status, 200, "status of the endless stream whose producer fails")
    expect(
        endless_items(fetched.body, fetched.header("content-type")),
        b"1\n2\n3\n",
        "the items sent before the producer failed",
    )
    if not fetched.aborted:
        violation(
            "how the body ended after the producer failed after 3 items",
            "never completed (no final body message, no last chunk)",
            "completed: the body ended as a whole one does, so a client takes 3 items for all",
        )
    again = await fetch(stream_client, "GET", ENDLESS_PATH, params=endless(new_id(), limit=1))
    expect(again.status, 200, "status of the next request after a failed stream")


HEAD = chapter.rule(
    "CANCEL-HEAD-01",
    MUST,
    "HEAD on a streaming route returns the headers without starting the producer.",
    RFC9110_HEAD,
)


@requires("endless", "observe")
@HEAD.check
async def check_head_does_not_start_the_producer(stream_client: StreamClient) -> None:
    """HEAD on an endless stream: a status, headers, no body, and a producer never started."""
    stream_id = new_id()
    params = endless(stream_id, limit=1000)
    fetched = await fetch(stream_client, "HEAD", ENDLESS_PATH, params=params)
    expect(fetched.status, 200, "status of HEAD on the endless stream")
    expect(fetched.body, b"", "the body of a HEAD response")
    unknown = (
        "the target recorded nothing under the id of a HEAD request (the surface asks it to "
        "record every request it accepts, HEAD included)"
    )
    facts = await observe(stream_client, stream_id, unknown=unknown)
    expect(facts.get("started"), False, "whether HEAD started the producer")


LEAK = chapter.rule(
    "CANCEL-LEAK-01",
    MUST,
    "No task, thread or file descriptor outlives a stream.",
    ASGI_DISCONNECT,
)


def _resources() -> dict[str, int]:
    return {
        "tasks": len(asyncio.all_tasks()),
        "threads": threading.active_count(),
        "file descriptors": len(os.listdir("/proc/self/fd"))
        if os.path.isdir("/proc/self/fd")
        else 0,
    }


@requires("endless")
@LEAK.check
async def check_nothing_outlives_a_stream(target: Target) -> None:
    """Count tasks, threads and descriptors before and after streams of every kind."""

    async def one_stream(kind: str) -> None:
        async with asgi_exchange(target, ENDLESS_PATH, endless(new_id(), kind, limit=LIMIT)) as ex:
            with guarded(f"the first body message of a {kind} stream", GUARD):
                async for _ in ex.iter_body():
                    break
        with guarded(f"the end of the app's call after its {kind} stream's client left", GUARD):
            await ex.app_done.wait()

    for kind in KINDS:  # warm up: thread pools and lazy imports are not leaks
        await one_stream(kind)
    before = _resources()
    for kind in KINDS:
        await one_stream(kind)
    await anyio.lowlevel.checkpoint()
    after = _resources()
    # Fewer is no leak: a worker thread of a pool may end while the check runs.
    if any(after[name] > before[name] for name in before):
        violation(
            "tasks, threads and file descriptors after the streams ended",
            f"no more than before the streams: {before}",
            after,
        )


POLLING = chapter.rule(
    "CANCEL-POLL-01",
    SHOULD,
    "A stream learns of a disconnect from one pending receive(), not by polling receive() "
    "for each item: a stream of 100 items calls receive() at most 3 times.",
    ASGI_DISCONNECT,
)


@requires("endless")
@POLLING.check
async def check_disconnect_is_awaited_not_polled(target: Target) -> None:
    """Polling ``request.is_disconnected()`` per item costs a ``receive`` round trip per item.

    Measured on uvicorn: five times slower than one waiting task, and blind to a
    disconnect while the producer waits between items.
    """
    params = endless(new_id(), limit=100)
    async with asgi_exchange(target, ENDLESS_PATH, params) as ex:
        with guarded("the whole stream of 100 items and the end of the app's call", GUARD):
            async for _ in ex.iter_body():
                pass
            await ex.app_done.wait()
    if ex.receive_calls > 3:
        violation("receive() calls for a stream of 100 items", "at most 3", ex.receive_calls)


# --- Keep-alive -------------------------------------------------------------------

KEEPALIVE = chapter.rule(
    "CANCEL-KEEPALIVE-01",
    SHOULD,
    "An idle SSE stream sends a comment at least once per keep-alive interval, so that "
    "proxies and clients do not take it for dead.",
    SSE_AUTHORING,
)


def _idle_sse(client: StreamClient, keepalive: float) -> Any:
    params = [*sse_params([Event("hello")]), ("hold", "true"), ("keepalive", str(keepalive))]
    return client.stream("GET", SSE_PATH, params=params)


@requires("idle")
@KEEPALIVE.check
async def check_idle_stream_sends_keepalive_comments(stream_client: StreamClient) -> None:
    """With a 50 ms interval, a comment follows the only event of an idle stream.

    Waited for within a load-aware window a hundred times the interval.
    """
    async with _idle_sse(stream_client, 0.05) as response:
        decoder = Decoder()

        async def comment() -> bool:
            async for chunk in response.chunks():
                if any(isinstance(item, Comment) for item in decoder.feed(chunk)):
                    return True
            return False

        waited = await within(patience(), comment)
    if not waited.value:
        seen = "the stream ended" if waited.arrived else f"none in {waited.seconds:.1f} s"
        violation("an idle stream with a 50 ms keep-alive", "a comment", seen)


NO_BUSY_LOOP = chapter.rule(
    "CANCEL-KEEPALIVE-02",
    MUST,
    "With keep-alive disabled (interval 0), an idle SSE stream sends nothing at all: "
    "no comment, and no flood from a keep-alive loop with a zero interval.",
    STREAMSPEC,
)

_WINDOW = 0.3
_ROUND_TRIPS = 3


@requires("idle")
@NO_BUSY_LOOP.check
async def check_disabled_keepalive_sends_nothing(stream_client: StreamClient) -> None:
    """Keep-alive 0: after its one event, the stream stays silent while the target serves others.

    Ordered by events: after the event, the target answers three more requests
    (finite event streams), so its event loop has turned many times; a keep-alive
    loop with a zero interval has flooded the idle stream by then, and its bytes
    are already on their way. The window that follows only reads what has
    arrived (0.3 s, load-aware); a correct stream sends nothing however long it
    is watched.
    """
    async with _idle_sse(stream_client, 0) as response:
        chunks = response.chunks()
        decoder = Decoder()
        with guarded("the idle stream's one event", GUARD):
            while not any(isinstance(i, MessageEvent) for i in decoder.feed(await anext(chunks))):
                pass
        for _ in range(_ROUND_TRIPS):
            served = await fetch(stream_client, "GET", SSE_PATH, params=sse_params([Event("x")]))
            expect(served.status, 200, f"status of GET {SSE_PATH} beside the idle stream")
        extra = b""

        async def read_on() -> None:
            nonlocal extra
            async for chunk in chunks:
                extra += chunk

        await within(_WINDOW, read_on, verdict=False)
        expect(
            extra[:200],
            b"",
            f"bytes sent by an idle stream with keep-alive 0, while the target answered "
            f"{_ROUND_TRIPS} other requests",
        )


# --- Resuming ---------------------------------------------------------------------

EVERY_ID = chapter.rule(
    "CANCEL-RESUME-01",
    MUST,
    "Every event of a resumable stream carries its own id, so that a client can say "
    "where it stopped.",
    SSE_LAST_EVENT_ID,
)


async def publish(client: StreamClient, feed: str, data: list[str]) -> None:
    body = json.dumps(data).encode()
    fetched = await fetch(client, "POST", f"{FEED_PATH}/{feed}", body=body)
    if fetched.status in _NOT_IMPLEMENTED:
        not_observable(f"POST {FEED_PATH}/{{name}} answered {fetched.status}")
    expect(fetched.status, 200, f"status of publishing to {FEED_PATH}/{feed}")


async def read_feed(
    client: StreamClient,
    feed: str,
    count: int,
    last_event_id: str | None = None,
    *,
    end: str | None = None,
) -> list[MessageEvent]:
    """Subscribe to *feed* and read *count* events, then leave.

    With *end*, the data of an event published after the others, reading also
    stops at that event (not returned): a feed that lost an event is seen at
    once, instead of being waited for.
    """
    headers = [("Last-Event-ID", last_event_id)] if last_event_id is not None else []
    events: list[MessageEvent] = []
    if count == 0:
        return events
    decoder = Decoder()
    async with client.stream("GET", f"{FEED_PATH}/{feed}", headers=headers) as response:
        expect(response.status, 200, f"status of GET {FEED_PATH}/{feed}")
        with guarded(f"{count} events of GET {FEED_PATH}/{feed}, got {len(events)}", GUARD):
            async for chunk in response.chunks():
                events += [i for i in decoder.feed(chunk) if isinstance(i, MessageEvent)]
                ended = end is not None and any(event.data == end for event in events)
                if len(events) >= count or ended:
                    break
    if end is not None:
        events = list(itertools.takewhile(lambda event: event.data != end, events))
    return events[:count]


@requires("feed")
@EVERY_ID.check
async def check_every_event_has_an_id(stream_client: StreamClient) -> None:
    """Three published events arrive with three different, non-empty ids."""
    feed = new_id()
    await publish(stream_client, feed, ["a", "b", "c"])
    ids = [event.last_event_id for event in await read_feed(stream_client, feed, 3)]
    if "" in ids or len(set(ids)) != 3:
        violation("the last event id after each of three events", "three different ids", ids)


NO_LOSS = chapter.rule(
    "CANCEL-RESUME-02",
    MUST,
    "A client that reconnects with Last-Event-ID receives exactly the events it missed: "
    "none lost, none twice.",
    SSE_LAST_EVENT_ID,
)


@requires("feed")
@NO_LOSS.check
@given(data=st.lists(st.text(max_size=8), min_size=1, max_size=12), split=st.integers(0, 12))
async def check_reconnect_resumes_without_loss(
    stream_client: StreamClient, data: list[str], split: int
) -> None:
    """For any events and any disconnect point, the two connections together carry each once."""
    feed = new_id()
    split = min(split, len(data))
    end = f"end-{new_id()}"  # published last: a lost event shows as this one coming early
    await publish(stream_client, feed, [*data, end])
    first = await read_feed(stream_client, feed, split, end=end)
    resume_from = first[-1].last_event_id if first else None
    rest = await read_feed(stream_client, feed, len(data) - len(first), resume_from, end=end)
    expected = [as_dispatched(d) for d in data]
    expect(
        [e.data for e in first + rest], expected, f"events read by two connections cut at {split}"
    )


GAP = chapter.rule(
    "CANCEL-RESUME-03",
    MUST,
    f"A client whose Last-Event-ID is no longer held (the replay buffer keeps at least "
    f"the last {FEED_CAPACITY} events) first receives an event of type gap, then the "
    f"events still held.",
    STREAMSPEC,
)


def _numbered(after: int, count: int) -> list[str]:
    return [str(n) for n in range(after + 1, after + count + 1)]


#: The most events CANCEL-RESUME-03 publishes to one feed to push its first event out.
FEED_OVERFLOW_LIMIT = 8960


@requires("feed")
@GAP.check
async def check_client_too_far_behind_is_told(stream_client: StreamClient) -> None:
    """Publish until the feed's first event is gone (70 events, doubled up to 8960 for a
    larger buffer): resuming from the first event's id gets a gap, then the oldest held."""
    feed = new_id()
    await publish(stream_client, feed, ["1"])
    first_id = (await read_feed(stream_client, feed, 1))[0].last_event_id
    published, batch = 1, FEED_CAPACITY + 5
    while True:
        await publish(stream_client, feed, _numbered(published, batch))
        published += batch
        oldest = (await read_feed(stream_client, feed, 1))[0]
        if oldest.data != "1":
            break
        if published * 2 > FEED_OVERFLOW_LIMIT:
            not_observable(
                f"the target's replay buffer still holds the first of {published} events"
            )
        batch = published
    events = await read_feed(stream_client, feed, 2, last_event_id=first_id)
    what = f"resuming from the id of the first of {published} events, no longer held"
    expect(events[0].type, "gap", f"type of the first event after {what}")
    expect(events[1].data, oldest.data, "the first event after the gap is the oldest held")


# --- Shutdown ---------------------------------------------------------------------

SHUTDOWN = chapter.rule(
    "CANCEL-SHUTDOWN-01",
    MUST,
    "On SIGTERM, a server with endless streams open ends each of them with a final event "
    "and a complete body, and exits, within a grace period (10 s here).",
    STREAMSPEC,
)

SHUTDOWN_GRACE = 10.0
#: The stream the shutdown checks hold open: one event, then nothing (no keep-alive) until
#: the client leaves or the server shuts down.
HELD = [*sse_params([Event("hello")]), ("hold", "true"), ("keepalive", "0")]
#: What a held stream sends before SIGTERM: its one event, as (type, data).
HELD_EVENTS = [("message", "hello")]
#: The finite stream CANCEL-SHUTDOWN-02 asks the second server for.
FINITE = sse_params([Event("a"), Event("b"), Event("c")])


def _importable(target: Target) -> str:
    if target.asgi_app is None:
        not_observable(
            f"the target is a {target.kind}, not an ASGI app the suite can start "
            "as `uvicorn module:attr`"
        )
    return target.name


@dataclass
class _Held:
    """One held stream, as its reader saw it around SIGTERM.

    Attributes:
        before: the events that arrived before the suite sent SIGTERM.
        after: the events that arrived after it.
        ended: how the body ended: ``""`` complete, else how it broke; ``None`` while open.
        ended_before_sigterm: the body ended before the suite sent SIGTERM.
    """

    what: str
    before: list[MessageEvent] = field(default_factory=list)
    after: list[MessageEvent] = field(default_factory=list)
    ended: str | None = None
    ended_before_sigterm: bool = False
    first_in: anyio.Event = field(default_factory=anyio.Event)
    done: anyio.Event = field(default_factory=anyio.Event)


async def _read_held(response: Any, held: _Held, sigterm: anyio.Event) -> None:
    decoder = Decoder()
    try:
        async for chunk in response.chunks():
            events = [i for i in decoder.feed(chunk) if isinstance(i, MessageEvent)]
            (held.after if sigterm.is_set() else held.before).extend(events)
            if events:
                held.first_in.set()
        held.ended = ""
    except Exception as error:  # the body was cut off
        held.ended = f"{type(error).__name__}: {error}"
    finally:
        held.ended_before_sigterm = held.ended is not None and not sigterm.is_set()
        held.first_in.set()
        held.done.set()


async def _shut_down_while_held(
    child: Child,
    base_url: str,
    whats: Sequence[str],
    meanwhile: Callable[[], Awaitable[None]] | None = None,
) -> list[_Held]:
    """Hold one stream per *whats* open, read the first event of each, run *meanwhile*, send
    SIGTERM, and read every stream to its end (for at most the grace period)."""
    client = SocketClient(base_url)
    sigterm = anyio.Event()
    held = [_Held(what) for what in whats]
    failed: list[Exception] = []
    async with AsyncExitStack() as stack:
        responses = [
            await stack.enter_async_context(client.stream("GET", SSE_PATH, params=HELD))
            for _ in whats
        ]
        async with anyio.create_task_group() as group:
            for response, one in zip(responses, held, strict=True):
                group.start_soon(_read_held, response, one, sigterm)
            for one in held:
                await within(GUARD, one.first_in.wait, verdict=False)
            if meanwhile is not None:
                try:
                    await meanwhile()
                except Exception as error:  # re-raised below, outside the task group
                    failed.append(error)
            sigterm.set()
            child.terminate()

            async def all_done() -> None:
                for one in held:
                    await one.done.wait()

            await within(SHUTDOWN_GRACE, all_done, verdict=False)
            group.cancel_scope.cancel()
    if failed:
        raise failed[0]
    return held


def _judge_held(held: _Held) -> None:
    """The stream sent its event, stayed open until SIGTERM, then ended with one more, complete."""
    before = [(event.type, event.data) for event in held.before]
    if before != HELD_EVENTS:
        violation(f"the events of {held.what} before SIGTERM", HELD_EVENTS, before or "none")
    if held.ended_before_sigterm:
        violation(
            f"{held.what} before SIGTERM",
            "held open until SIGTERM",
            f"ended before it ({held.ended or 'its body complete'})",
        )
    if held.ended is None:
        violation(f"{held.what} after SIGTERM", f"ended within {SHUTDOWN_GRACE} s", "still open")
    if held.ended:
        violation(
            f"how {held.what} ended after SIGTERM", "complete, with its last chunk", held.ended
        )
    if not held.after:
        violation(
            f"the events of {held.what} after SIGTERM",
            "a final event (any type and data)",
            "none: the body ended without one",
        )


@requires("hold")
@SHUTDOWN.check
async def check_sigterm_ends_streams_with_a_final_event(target: Target) -> None:
    """Two held SSE streams are open when ``uvicorn module:attr`` gets SIGTERM."""
    name = _importable(target)
    port = free_port()
    with run_child(uvicorn_command(name, port)) as child:
        await child.wait_for_line("Uvicorn running")
        held = await _shut_down_while_held(
            child,
            f"http://127.0.0.1:{port}{target.prefix}",
            ("the first held stream", "the second held stream"),
        )
        for one in held:
            _judge_held(one)
        status = await child.exited(within=SHUTDOWN_GRACE)
        if status is None:
            violation(
                "the server after SIGTERM", f"exited within {SHUTDOWN_GRACE} s", "still running"
            )


SECOND_SERVER = chapter.rule(
    "CANCEL-SHUTDOWN-02",
    MUST,
    "After one server has shut down on SIGTERM, ending its streams with a final event, a "
    "server started later in the same process streams as if no shutdown had ever happened: "
    "a held stream stays open until that server's own SIGTERM, a finite stream runs in full.",
    STREAMSPEC,
)


@requires("hold")
@SECOND_SERVER.check
async def check_second_server_is_not_shut_down(target: Target) -> None:
    """Serve, SIGTERM, serve again in the same process: the first server's held stream ends
    with a final event; the second's stays open through a finite stream, until SIGTERM."""
    name = _importable(target)
    ports = free_port(), free_port()
    command = [sys.executable, "-m", "spec.targets.serve_twice", name, *map(str, ports)]
    urls = [f"http://127.0.0.1:{port}{target.prefix}" for port in ports]
    finite: list[Fetched] = []

    async def fetch_finite() -> None:
        second = SocketClient(urls[1])
        finite.append(await fetch(second, "GET", SSE_PATH, params=FINITE))

    with run_child(command) as child:
        await child.wait_for_line("serving 1")
        (first,) = await _shut_down_while_held(child, urls[0], ["the first server's held stream"])
        _judge_held(first)
        await child.wait_for_line("serving 2")
        (second,) = await _shut_down_while_held(
            child, urls[1], ["the second server's held stream"], fetch_finite
        )
        _judge_held(second)
        (fetched,) = finite
        expect(fetched.status, 200, "status of the second server's finite stream")
        decoder = Decoder()
        events = [i for c in fetched.chunks for i in decoder.feed(c) if isinstance(i, MessageEvent)]
        expect(
            [e.data for e in events], ["a", "b", "c"], "events of the second server's finite stream"
        )
        expect(fetched.aborted, False, "whether the second server's finite stream was cut off")
