"""Conformance surface: the endpoints a target exposes to be validated.

The suite never reaches into a target's code. It asks for streams over plain
HTTP, so a server written in any language can be validated by implementing
the endpoints below next to its real routes. Browser-facing streams are GET,
so that an `EventSource` can open them too.

## `GET /conformance/capabilities`

Answers 200 with a JSON object of booleans that declares what the target
implements, for example

```json
{"sse": true, "text": true, "comments": true, "files": false, "observe": false}
```

| member | true means | when false, the rules that need it are |
| --- | --- | --- |
| `sse` | `GET /conformance/sse` is served | not applicable |
| `text` | `GET /conformance/text` is served | not applicable |
| `files` | the file-download endpoints are served | not applicable |
| `comments` | `GET /conformance/sse` writes an event's `comment` member | not applicable |
| `observe` | the observation endpoint is served (see below) | not observable |

The observation endpoint tells the suite server-side facts (a producer's
cleanup ran, when, after how many items). The name `observe` is reserved here;
the endpoint's contract belongs to the cancellation chapter.

A library that cannot send comments declares `comments: false`; the suite
then never asks it for one.

An absent member means `false`; members the suite does not know are ignored.
The suite reads the declaration once, before the checks, and decides from it
alone which rules apply: a rule is never excused because the target failed
it. A target that does not answer with an object of booleans declares
nothing: it is held to every stream rule, offers no observation, and fails
`SURFACE-CAP-01`.

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

## `GET /conformance/text?chunks=JSON`

Streams the strings of `JSON` (a list of strings) as a `text/plain;
charset=utf-8` body: each string encoded as UTF-8 and sent as soon as it is
produced, in order, then the end of the response. A malformed `chunks`
parameter gets a 400.
"""

from __future__ import annotations

from spec.capabilities import parse, requires
from spec.rules import MUST, Chapter, Source, expect, violation
from spec.sse import Event
from spec.streams import fetch
from spec.surface import CAPABILITIES_PATH, SSE_PATH, TEXT_PATH, sse_params, text_params
from spec.targets.client import StreamClient

chapter = Chapter(__name__)

SURFACE = Source(
    "streamspec",
    "Conformance surface",
    "#surface",
)

CAPABILITIES = chapter.rule(
    "SURFACE-CAP-01",
    MUST,
    "GET /conformance/capabilities answers 200 with a JSON object whose members are "
    "booleans, declaring what the target implements.",
    SURFACE,
)


@CAPABILITIES.check
async def check_capabilities_are_declared(stream_client: StreamClient) -> None:
    """The declaration the suite decides applicability by is there and well formed."""
    fetched = await fetch(stream_client, "GET", CAPABILITIES_PATH)
    declared = parse(fetched.status, fetched.body)
    if declared.declared is None:
        violation(
            "the answer to GET /conformance/capabilities",
            "200 and a JSON object of booleans",
            f"{declared.problem}: {fetched.body[:200]!r}",
        )


SSE_ENDPOINT = chapter.rule(
    "SURFACE-SSE-01",
    MUST,
    "GET /conformance/sse answers 200 with Content-Type text/event-stream "
    "for a valid list of events.",
    SURFACE,
)


@requires("sse")
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


@requires("sse")
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


@requires("text")
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


@requires("text")
@TEXT_MALFORMED.check
async def check_malformed_chunks_get_400(stream_client: StreamClient) -> None:
    """Not JSON, not a list, a list with a number: each a 400."""
    for raw in ("nope", '"text"', '["a", 1]'):
        fetched = await fetch(stream_client, "GET", TEXT_PATH, params=[("chunks", raw)])
        expect(fetched.status, 400, f"status of GET /conformance/text?chunks={raw}")
