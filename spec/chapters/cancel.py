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
checkpoint (a yield to the event loop) at least every 16 items (no more than 16
items may follow a disconnect: `CANCEL-PROMPT-01` says why 16), and cleanup in a
shielded scope. The checks drive
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

A client that stops reading but keeps its connection open is the one a send
timeout is for (`CANCEL-SLOW-01`: the stream ends, its producer is cleaned
up). Ending the stream is half of it: the connection must go too
(`CANCEL-SLOW-02`). A server that closes it gracefully waits to flush what it
buffered for that client first, which a client that reads nothing never
allows, so the connection and its buffers stay for as long as the client
likes. The suite's stalled readers (`spec/stalled.py`) ask, each on a raw
socket whose receive buffer is small, for a stream no buffer can hold (the
endless stream of 1 MiB items as the target serves it and, for a target with
SSE, as SSE with `form=sse`; an 8 MiB bytes echo; the 8 MiB `big.bin`), read
its head and stop; the check reads the connection's TCP state from the kernel
(`TCP_INFO`, Linux only), without reading, and needs it reset or closed. An
ASGI app cannot abort a connection itself: under uvicorn the reference resets
the socket it reaches through the server's `send` (`impl/abort.py`); a server
that does not abort connections fails the rule whatever the app does.

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
  `python -m uvicorn module:attr --host 127.0.0.1 --port PORT --http h11`
  (uvicorn's defaults otherwise: lifespan `auto`, no `--timeout-graceful-shutdown`),
  holds two streams, sends SIGTERM, and requires both to end so, and the
  process to exit within 10 s. With `--server=hypercorn` the command is
  `python -m hypercorn module:attr --bind 127.0.0.1:PORT --workers 0
  --graceful-timeout 5`, with `--server=granian` it is `python -m granian
  --interface asgi module:attr --host 127.0.0.1 --port PORT
  --workers-kill-timeout 5` (`spec/targets/process.py` says why each flag).
* `CANCEL-SHUTDOWN-02` runs `python -m spec.targets.serve_twice module:attr
  PORT1 PORT2 SERVER`: the same app object served by one server of the run's
  choice (uvicorn unless `--server` says otherwise), then, once that has shut
  down, by a second, in the main thread of one process, each
  server with its own lifespan startup and shutdown. The first server gets
  one held stream and SIGTERM: that stream must end as above (a first server
  that never shuts its stream down fails the rule: nothing then shows that its
  shutdown stays out of the second). The second server gets a held stream,
  which must send `hello` and stay open while the suite reads a finite stream
  (`events=[{"data":"a"},{"data":"b"},{"data":"c"}]`, complete) from the same
  server, then SIGTERM, after which the held stream must end as above.
* `CANCEL-SHUTDOWN-03` starts the target in a process of its own (an ASGI app
  as above, a command target by its command, on a free port: a running server
  named by its URL cannot be sent a signal), opens one stalled reader of each
  kind it serves (as for `CANCEL-SLOW-02`, with a send timeout of an hour, so
  that only the shutdown can free them), sends SIGTERM, and requires the
  process to exit within 10 s.

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

hypercorn and granian also take SIGTERM with a loop signal handler
(`loop.add_signal_handler`) installed before the lifespan startup, and also end
the lifespan only after the open responses; the same chained handler works
there, because asyncio's handler is woken through the loop's wakeup descriptor,
whatever Python-level handler sits in front of it. granian's main process
relays SIGTERM to its worker, where the app runs. hypercorn's default of one
worker process is the exception: the worker is told through a
`multiprocessing.Event`, never a signal, so the check runs hypercorn with
`--workers 0`.
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
import anyio.to_thread
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spec import stalled
from spec.capabilities import Capabilities, requires
from spec.patience import guarded, patience, within
from spec.rules import (
    MUST,
    SHOULD,
    Chapter,
    Source,
    expect,
    not_applicable,
    not_observable,
    violation,
)
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
from spec.targets.client import SocketClient, StreamClient, speaks_http2
from spec.targets.command import accepts_connections, expand
from spec.targets.process import Child, free_port, run_child, server_command
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
    why="A producer left at its `yield` keeps what it holds (a connection from the database "
    "pool, an open file, a model generating tokens nobody reads) until the garbage "
    "collector finds it, if it ever does: Starlette 1.10.0's `StreamingResponse` never "
    "closes the iterator it was given, so a sync or never-awaiting generator's `finally` "
    "runs only then (the README's peer matrix).",
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


#: The most items a producer may be asked for once the server delivered ``http.disconnect``.
PROMPT_ITEMS = 16

PROMPT = chapter.rule(
    "CANCEL-PROMPT-01",
    MUST,
    "Once the server has delivered http.disconnect, the producer is asked for at most "
    f"{PROMPT_ITEMS} more items, even if neither it nor send() ever yields to the event loop.",
    ASGI_DISCONNECT,
    why="A producer that never awaits, served by a library that needs it to, is never "
    "interrupted: under uvicorn, Starlette 1.10.0 asked one for 49,997 items after "
    "`http.disconnect`, and the server answered no one meanwhile (the README's peer "
    "matrix). The bound is what a stream pays for: it must yield to the event loop at least "
    "every 16 items, and under uvloop each yield is a `write` system call. In one run (200,000 "
    "events of 64 B, uvicorn with uvloop) the reference made 111,856 events/s yielding every 2 "
    "items, 205,526 every 16 and 201,990 every 64, against Starlette's 223,918 (which never "
    "yields); the slowest first byte of 100 concurrent streams was 57.7 ms at every 2, 91.4 ms "
    "at every 16 and 153 ms for Starlette. So 16, not 2: nearly all of the speed, for 16 items "
    "of work for a client that has gone, against the tens of thousands that still fail. A "
    "count, not a time: how many items fit in a millisecond depends on the machine and its "
    "load, and a verdict must not.",
)


@requires("endless", "observe")
@PROMPT.check
@pytest.mark.parametrize("kind", KINDS)
async def check_at_most_16_items_after_disconnect(target: Target, kind: str) -> None:
    """The client leaves after three body messages; count the items asked for after that.

    The items sent before the disconnect are the numbered lines in those three messages (a
    message that carries no item, such as an empty one that sends the head, counts for none).
    """
    stream_id = new_id()
    params = endless(stream_id, kind, limit=LIMIT)
    async with asgi_exchange(target, ENDLESS_PATH, params, disconnect_after=3) as ex:
        with guarded(f"the end of the app's call after http.disconnect ({kind})", GUARD):
            await ex.app_done.wait()
    facts = await _observe_in_process(target, stream_id)
    sent = ex.body_messages[: ex.body_messages_at_disconnect or 0]
    content_type = dict(ex.headers).get("content-type")
    at_disconnect = endless_items(b"".join(bytes(m.get("body", b"")) for m in sent), content_type)
    items_before = at_disconnect.count(b"\n")
    after = facts["produced"] - items_before
    if after > PROMPT_ITEMS:
        violation(
            f"items a {kind} producer was asked for after http.disconnect",
            f"at most {PROMPT_ITEMS}",
            f"{after} ({facts['produced']} in all, {items_before} sent before the disconnect)",
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
    why="The wait for the first item (a query, a model's first token) is where slow requests "
    "spend their time and where clients give up; a server that notices the disconnect only "
    "at its first send keeps that work going for a client that has gone.",
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
    why="A stream that waits on its own I/O (a queue, a pub/sub subscription, the next line of "
    "a log) may wait hours between items; a server that notices a disconnect only when it "
    "next sends holds the subscription that long for nobody. Starlette, from ASGI spec 2.4 "
    "on, counts on `send` raising (the README's peer matrix), and the tutorial polls "
    "between items only.",
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
    why="A client that stops reading is no disconnect. TCP keeps the connection open, for ever "
    "while the client is there and acknowledges the server's zero-window probes, for many "
    "minutes of retransmissions once it has vanished, and all that time the server's `send` "
    "waits, holding the producer and its buffers. Starlette's, FastAPI's and Litestar's "
    "responses take no send timeout (the README's peer matrix).",
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


SLOW_ABORT = chapter.rule(
    "CANCEL-SLOW-02",
    MUST,
    "When its send timeout fires for a client that has stopped reading, the server aborts that "
    "client's connection (resets it, or closes it), for every kind of stream it serves (SSE, "
    "text, a bytes echo, a file download), rather than holding the connection and the bytes "
    "buffered for it.",
    STREAMSPEC,
    why="Ending the stream is not enough: a server that then closes the connection "
    "gracefully waits to flush its buffers first, and a client that reads nothing never "
    "lets it, so the connection, its buffered bytes and the server's shutdown are held until "
    "that client resets; a client that reads again much later receives a stream that was "
    "abandoned long before. Seen in issue 14: after a send timeout uvicorn kept 51 "
    "connections for 78 s, and 10 clients that never read an 8 MiB echo held 13.5 MiB each. "
    "TCP offers the abort for this (RFC 9293, 3.10.5 ABORT: pending data is dropped, a reset "
    "sent); an ASGI app reaches it only through its server.",
)

#: The send timeout CANCEL-SLOW-02 asks each stalled stream for (the surface's ``send_timeout``).
STALLED_SEND_TIMEOUT = 0.5


async def _gone(reader: stalled.StalledReader) -> None:
    """Return once the server has ended *reader*'s connection (a reset, or a close)."""
    while not await anyio.to_thread.run_sync(reader.gone):  # noqa: ASYNC110 - a TCP state
        await anyio.sleep(0.05)


async def _open_stalled(
    kind: str, url: str, send_timeout: float | None
) -> stalled.StalledReader | None:
    """A stalled reader of *kind* on *url*, or ``None`` if the target does not serve it there
    (404, 405 or 501); any other status but 200 fails the check."""
    reader = await stalled.open_stalled(kind, url, new_id(), send_timeout)
    if reader.status in _NOT_IMPLEMENTED:
        reader.close()
        return None
    if reader.status != 200:
        reader.close()
        expect(reader.status, 200, f"the status of a {kind} stream ({reader.status_line!r})")
    return reader


@pytest.mark.parametrize("kind", list(stalled.KINDS))
@SLOW_ABORT.check
async def check_send_timeout_aborts_a_stalled_readers_connection(
    live_url: str, capabilities: Capabilities, kind: str
) -> None:
    """Over TCP: a client asks for a stream of *kind* that no buffer can hold (endless 1 MiB
    items, as the target serves them or as SSE, an 8 MiB echo, the 8 MiB ``big.bin``) with a
    0.5 s send timeout, reads its head, and never reads again.

    Within a load-aware window the server must have ended the connection: the
    client's kernel sees it reset, or closed with nothing left in flight (from
    ``TCP_INFO``, without reading; Linux only). A server that only ends the
    stream, and closes behind the bytes it buffered, leaves it established. A
    connection still open whose client's buffer never filled is not observable:
    the server's sends never waited, so there was nothing to time out.
    """
    if not stalled.observable():
        not_observable("a connection's TCP state is read with Linux's TCP_INFO")
    for name in stalled.KINDS[kind]:
        capabilities.require(name)
    reader = await _open_stalled(kind, live_url, STALLED_SEND_TIMEOUT)
    if reader is None:
        not_observable(f"the target does not serve the {kind} stream (a 404, 405 or 501)")
    try:
        if kind == "sse" and reader.content_type != "text/event-stream":
            not_observable(
                f"asked for its endless stream as SSE (form=sse), the target served "
                f"{reader.content_type or 'no Content-Type'}"
            )
        waited = await within(patience(), lambda: _gone(reader))
        if not waited.arrived and not reader.filled():
            not_observable(
                f"only {reader.unread()} body bytes of the {kind} stream reached the client, "
                "which can hold more: the server's sends never had to wait for it, so no send "
                "timeout could fire"
            )
        if not waited.arrived:
            violation(
                f"the connection of a client that stopped reading a {kind} stream "
                f"with a {STALLED_SEND_TIMEOUT:g} s send timeout",
                "reset or closed by the server once the send timeout fired",
                f"still established after {waited.seconds:.1f} s",
            )
    finally:
        reader.close()


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
    why="RFC 9110 asks only that a response to HEAD carry no content (9.3.2), whatever the app "
    "does to make it; streamspec asks that the producer not start because HEAD is what "
    "monitors and `curl -I` send, and a server that starts the producer for it does the "
    "stream's work (a query, a model's tokens) for a body that is thrown away: Starlette's "
    "`StreamingResponse` ignores the method, and uvicorn drops the body it sends (the "
    "README's peer matrix).",
    beyond_source=True,
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
    why="What each stream leaves behind adds up: a server that leaks one task or file "
    "descriptor per stream runs out of descriptors (a process's limit is commonly 1,024) "
    "after that many clients, and from then on refuses every new connection.",
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
    why="Proxies and load balancers close a connection that has been silent for their idle "
    "timeout (nginx's `proxy_read_timeout` and an AWS Application Load Balancer's idle "
    "timeout are 60 s by default), and the client then reconnects or, if the stream does "
    "not resume, loses what was sent meanwhile. The source's authoring notes suggest a "
    "comment every 15 seconds or so; a write is also how a server learns that a client has "
    "vanished.",
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
    why="WHATWG HTML defines `Last-Event-ID` and leaves ids to the server; a resumable stream "
    "here gives every event one because a client resumes from the last id it received, "
    "which persists through events without one (SSE-PARSE-12): after such an event it sends "
    "back an older id, and receives again every event since.",
    beyond_source=True,
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
    why="WHATWG HTML says what a reconnecting client sends, not what the server answers; "
    "streamspec asks for exactly the missed events because a client cannot tell an event "
    "lost in the reconnection from one that never happened, and shows an event sent again "
    "as a second one (a chat message, a log line).",
    beyond_source=True,
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
    why="A client away longer than the buffer holds cannot be given what it missed; without a "
    "`gap` event it cannot tell that it missed anything, and shows an incomplete history as "
    "whole.",
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
    why="Every deploy sends SIGTERM. A server whose streams do not end by themselves waits for "
    "them (uvicorn waits for open responses, for ever without "
    "`--timeout-graceful-shutdown`) until it is killed (Kubernetes sends SIGKILL 30 s later "
    "by default), and each client sees its connection cut instead of an event telling it to "
    "come back.",
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
            f"as `{target.server} module:attr`"
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


def _held_streams_observable() -> None:
    """Over HTTP/2 the end of a held stream after SIGTERM is not observable here: the
    suite's HTTP/2 client (httpx on the h2 library) takes the server's GOAWAY as the
    connection's end and fails on the frames RFC 9113 §6.8 still lets follow it (a PING,
    the open streams' DATA), so a correct server would be seen to cut its streams."""
    if speaks_http2():
        not_observable(
            "over HTTP/2 the suite's client (httpx, h2) fails on frames after the server's "
            "GOAWAY, which RFC 9113 §6.8 allows (a PING, the open streams' last DATA): run "
            "the SIGTERM rules with --http=1.1"
        )


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
    """Two held SSE streams are open when ``uvicorn module:attr`` (or the run's ``--server``)
    gets SIGTERM."""
    _held_streams_observable()
    name = _importable(target)
    port = free_port()
    command = server_command(target.server, name, port)
    with run_child(command.argv) as child:
        await child.wait_until_serving(command.ready, port)
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
                "the server after SIGTERM",
                f"exited within {SHUTDOWN_GRACE} s",
                _still_running(child),
            )


def _still_running(child: Child) -> str:
    """What a server still running after SIGTERM's window shows: how long it has run since,
    in wall time (more than the window on a loaded machine), and its last lines of output."""
    lines = "".join(child.lines[-6:]).strip() or "(nothing)"
    return (
        f"still running {child.since_terminated():.1f} s after SIGTERM; its last output:\n{lines}"
    )


SECOND_SERVER = chapter.rule(
    "CANCEL-SHUTDOWN-02",
    MUST,
    "After one server has shut down on SIGTERM, ending its streams with a final event, a "
    "server started later in the same process streams as if no shutdown had ever happened: "
    "a held stream stays open until that server's own SIGTERM, a finite stream runs in full.",
    STREAMSPEC,
    why="An app is served more than once in one process by test suites and by servers that "
    "restart their workers; a shutdown flag that is never lowered ends the next server's "
    "streams at once: sse-starlette 3.7.0's process-wide `AppStatus.should_exit` does (the "
    "README's peer matrix).",
)


@requires("hold")
@SECOND_SERVER.check
async def check_second_server_is_not_shut_down(target: Target) -> None:
    """Serve, SIGTERM, serve again in the same process: the first server's held stream ends
    with a final event; the second's stays open through a finite stream, until SIGTERM."""
    _held_streams_observable()
    name = _importable(target)
    ports = free_port(), free_port()
    command = [
        sys.executable, "-m", "spec.targets.serve_twice", name, *map(str, ports), target.server
    ]  # fmt: skip
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


STALLED_SHUTDOWN = chapter.rule(
    "CANCEL-SHUTDOWN-03",
    MUST,
    "On SIGTERM, a server whose clients include some that have stopped reading (an endless "
    "stream, an echo, a download, each with its send timeout far off) exits within the "
    "grace period (10 s here): a stalled reader does not hold its shutdown.",
    STREAMSPEC,
    why="A server that waits, on shutdown, for every response to finish and every connection "
    "to close gracefully waits for ever on a client that reads nothing: its last bytes are "
    "never taken, and the connection never closes. Seen in issue 14: one client that stopped "
    "reading a download, an echo or an endless stream kept the reference running 25 s and "
    "more after SIGTERM, until that client reset. Deployments stop a server with SIGTERM "
    "and kill it after a grace period; a server held past it is killed, and its other "
    "streams cut without their final event.",
)

#: The send timeout of CANCEL-SHUTDOWN-03's stalled streams: far beyond the grace period, so
#: that only the shutdown can free them.
SHUTDOWN_SEND_TIMEOUT = 3600.0


@asynccontextmanager
async def _in_own_process(target: Target) -> AsyncIterator[tuple[Child, str]]:
    """Start the target in a process of its own, once it serves: ``uvicorn module:attr``
    (or the run's ``--server``) for an ASGI app, its command for a command target, on a
    free port; yield the process and its base URL (with the target's prefix)."""
    port = free_port()
    if target.asgi_app is not None:
        served = server_command(target.server, target.name, port)
        command, ready = served.argv, served.ready
    elif target.command is not None:
        command, ready = expand(target.command, port=port), ""
    else:
        not_observable(
            f"the target is a {target.kind} ({target.name}): the suite cannot start it to "
            "send it SIGTERM"
        )
    with run_child(command) as child:
        if ready:
            await child.wait_until_serving(ready, port)
        else:
            with guarded(f"the command's server to accept connections on port {port}", 30.0):
                while not await anyio.to_thread.run_sync(accepts_connections, "127.0.0.1", port):
                    if child.process.poll() is not None:
                        raise RuntimeError(f"the command exited:\n{child.output}")
                    await anyio.sleep(0.05)
        yield child, f"http://127.0.0.1:{port}{target.prefix}"


@STALLED_SHUTDOWN.check
async def check_stalled_readers_do_not_hold_shutdown(
    target: Target, capabilities: Capabilities
) -> None:
    """A client of each stalled kind the target serves (:mod:`spec.stalled`: endless 1 MiB
    items, as the target serves them and as SSE, an 8 MiB echo, ``big.bin``) reads its head
    and stops; then SIGTERM. The process must exit within the grace period."""
    kinds = [
        kind
        for kind, needs in stalled.KINDS.items()
        if all(capabilities.offers(name) for name in needs)
    ]
    if not kinds:
        not_applicable(
            "the target serves no stream a stalled reader can hold (endless, bytes, files)"
        )
    readers: list[stalled.StalledReader] = []
    async with _in_own_process(target) as (child, url):
        try:
            for kind in kinds:
                reader = await _open_stalled(kind, url, SHUTDOWN_SEND_TIMEOUT)
                if reader is not None:
                    readers.append(reader)
            if not readers:
                not_observable(f"the target served none of these streams: {', '.join(kinds)}")
            child.terminate()
            status = await child.exited(within=SHUTDOWN_GRACE)
        finally:
            for reader in readers:
                reader.close()
    if status is None:
        held = ", ".join(reader.kind for reader in readers)
        violation(
            f"the server after SIGTERM, with clients that stopped reading ({held})",
            f"exited within {SHUTDOWN_GRACE} s",
            _still_running(child),
        )
