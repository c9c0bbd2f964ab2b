"""Conformance surface: the endpoints a target exposes to be validated.

The suite never reaches into a target's code. It asks for streams over plain
HTTP, so a server written in any language can be validated by implementing
the endpoints below next to its real routes. Browser-facing streams are GET,
so that an `EventSource` can open them too.

## `GET /conformance/sse?events=JSON`

Streams the events of `JSON` as `text/event-stream`, in order, then ends the
response. `JSON` is a list of objects with the optional members `data`
(string, default `""`), `event` (string), `id` (string), `retry` (integer)
and `comment` (string), each member meaning what the field of the same name
means in the format. A member that is absent is not written.

An event that cannot be written unaltered (a type or id with CR or LF, an id
with NUL) is refused: the whole request gets a 4xx response before any event is
streamed. A malformed `events` parameter gets a 400.

Example: `GET /conformance/sse?events=[{"data":"a\\nb","id":"1"}]` (URL-encoded)
answers

```
id: 1
data: a
data: b

```

or any byte sequence a client reads as the same event.

Two optional parameters make the stream idle after its events: with
`hold=true` the response stays open, sending nothing more, until the client
leaves or the server shuts down; `keepalive=SECONDS` sets the interval of the
keep-alive comments on that idle stream (`0`: none at all).

## `GET /conformance/text?chunks=JSON`

Streams the strings of `JSON` (a list of strings) as a `text/plain;
charset=utf-8` body: each string encoded as UTF-8 and sent as soon as it is
produced, in order, then the end of the response. A malformed `chunks`
parameter gets a 400.

## `GET /conformance/endless?id=ID&kind=KIND`

Streams numbered lines (`1\n`, `2\n`, ...) as `text/plain`, one line a body
chunk, made by a producer of the given kind: `async` (an async generator that
awaits between items), `busy` (an async generator that never awaits) or
`sync` (a plain generator). The producer records under `ID` that it started,
how many items it produced, and, from its `finally` block, that its cleanup
ran. Optional parameters: `limit=N` ends the stream after N items; `hold=N`
makes an async producer wait for ever, as on I/O that never completes, after
N items; `fail=N` makes the producer raise after N items; `size=BYTES` pads
each item to that size (dots before the number); `send_timeout=SECONDS` sets
how long the server waits for a client to take a chunk before it abandons the
stream. HEAD is answered with the headers only.

## `GET /conformance/observe?id=ID`

Answers JSON `{"started": bool, "produced": int, "cleanup": bool}` for the
producer recorded under `ID` (404 if there is none). With `until=started` or
`until=cleanup` it first waits until that is true, or until `timeout=SECONDS`
(at most 10) have passed.

## `POST /conformance/feed/{name}` and `GET /conformance/feed/{name}`

A resumable SSE feed. POST a JSON list of strings: each becomes an event with
that data and the next id of the feed (`{"ids": [...]}` is answered). GET
streams the feed as `text/event-stream`: every event held after the one named
by the `Last-Event-ID` request header (all held events without it), then live
events as they are published, without end. The feed holds at least its last
64 events. A client whose `Last-Event-ID` is not held first receives an event
of type `gap` whose data is JSON `{"last_event_id": ..., "first_available": ...}`.
"""

from __future__ import annotations

from spec.rules import MUST, Chapter, Source, expect
from spec.sse import Event
from spec.streams import fetch
from spec.surface import SSE_PATH, TEXT_PATH, sse_params, text_params
from spec.targets.client import StreamClient

chapter = Chapter(__name__)

SURFACE = Source(
    "streamspec",
    "Conformance surface",
    "#surface",
)

SSE_ENDPOINT = chapter.rule(
    "SURFACE-SSE-01",
    MUST,
    "GET /conformance/sse answers 200 with Content-Type text/event-stream "
    "for a valid list of events.",
    SURFACE,
)


@SSE_ENDPOINT.check
async def check_sse_endpoint_streams_event_stream(stream_client: StreamClient) -> None:
    """The endpoint the SSE chapters depend on exists and speaks ``text/event-stream``."""
    fetched = await fetch(stream_client, "GET", SSE_PATH, params=sse_params([Event("x")]))
    expect(fetched.status, 200, "status of GET /conformance/sse")
    content_type = (fetched.header("content-type") or "").split(";")[0].strip().lower()
    expect(content_type, "text/event-stream", "media type of GET /conformance/sse")


MALFORMED = chapter.rule(
    "SURFACE-SSE-02",
    MUST,
    "GET /conformance/sse answers 400 when the events parameter is not a list of event objects.",
    SURFACE,
)


@MALFORMED.check
async def check_malformed_events_get_400(stream_client: StreamClient) -> None:
    """Not JSON, not a list, a wrongly typed member: each a 400, never a 500 or a stream."""
    for raw in ("not json", '{"data": "x"}', '[{"data": 1}]', '[{"retry": "5"}]', "[1]"):
        fetched = await fetch(stream_client, "GET", SSE_PATH, params=[("events", raw)])
        expect(fetched.status, 400, f"status of GET /conformance/sse?events={raw}")


TEXT_ENDPOINT = chapter.rule(
    "SURFACE-TEXT-01",
    MUST,
    "GET /conformance/text answers 200 with Content-Type text/plain and the requested "
    "chunks, in order, as UTF-8.",
    SURFACE,
)


@TEXT_ENDPOINT.check
async def check_text_endpoint_streams_the_chunks(stream_client: StreamClient) -> None:
    """Three chunks, one of them non-ASCII, come back in order as one UTF-8 body."""
    chunks = ["first\n", "例子 ✓\n", "last\n"]
    fetched = await fetch(stream_client, "GET", TEXT_PATH, params=text_params(chunks))
    expect(fetched.status, 200, "status of GET /conformance/text")
    content_type = (fetched.header("content-type") or "").split(";")[0].strip().lower()
    expect(content_type, "text/plain", "media type of GET /conformance/text")
    expect(fetched.body.decode("utf-8", "replace"), "".join(chunks), "body of the text stream")


TEXT_MALFORMED = chapter.rule(
    "SURFACE-TEXT-02",
    MUST,
    "GET /conformance/text answers 400 when the chunks parameter is not a list of strings.",
    SURFACE,
)


@TEXT_MALFORMED.check
async def check_malformed_chunks_get_400(stream_client: StreamClient) -> None:
    """Not JSON, not a list, a list with a number: each a 400."""
    for raw in ("nope", '"text"', '["a", 1]'):
        fetched = await fetch(stream_client, "GET", TEXT_PATH, params=[("chunks", raw)])
        expect(fetched.status, 400, f"status of GET /conformance/text?chunks={raw}")
