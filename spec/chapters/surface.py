"""Conformance surface: the endpoints a target exposes to be validated.

The suite never reaches into a target's code. It asks for streams over plain
HTTP, so a server written in any language can be validated by implementing
the endpoints below next to its real routes. Browser-facing streams are GET,
so that an `EventSource` can open them too.

The paths below are relative to the target's base path, the root unless the
target is named with one: an app that exposes its surface below `/base` (one
app mounting several implementations side by side, each at its own prefix) is
run with `--target-prefix=/base`, or named by a URL with that path
(`--target=http://127.0.0.1:8000/base`), and every request the suite makes
names `/base/conformance/...`: on the wire, through nginx, and in the ASGI
scopes it builds, whose `path` is the whole path and whose `root_path` is
empty, as the suite's uvicorn serves the app at the root (the app routes the
prefix itself, as a Starlette `Mount("/base", app=...)` does). Only an answer
below the prefix counts as the surface answering.

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
| `hold` | `GET /conformance/sse` honours `hold` (absent: the value of `idle`) | not applicable |
| `idle` | `GET /conformance/sse` honours `hold` and `keepalive` | not applicable |
| `bytes` | `POST /conformance/bytes` is served | not applicable |
| `log` | `GET /conformance/log` is served | not applicable |
| `endless` | `GET /conformance/endless` is served | not applicable |
| `feed` | `/conformance/feed/{name}` is served | not applicable |
| `observe` | `GET /conformance/observe` is served | not observable |
| `headers` | the SSE and text endpoints add the `headers=JSON` they are given | not applicable |
| `stop` | `GET /conformance/sse/stop` is served | not applicable |
| `ndjson` | `GET /conformance/ndjson` is served | not applicable |
| `chat` | `POST /conformance/chat` is served | not applicable |
| `gates` | `gate=NAME` and `/conformance/gates/NAME` are served | not observable |

A check that needs both a stream the target does not serve and an
observation it does not offer is reported *not applicable*: the stream
decides first.

The observation endpoint, `GET /conformance/observe`, tells the suite
server-side facts: a producer started, how many items it made, its cleanup
ran (see below).

A library that cannot send comments declares `comments: false`; the suite
then never asks it for one.

An absent member means `false`; members the suite does not know are ignored.
The suite reads the declaration once, before the checks, and decides from it
alone which rules apply: a rule is never excused because the target failed
it. A target that does not answer with an object of booleans declares
nothing: it is held to every stream rule, offers no observation, and fails
`SURFACE-CAP-01`.

## JSON parameters and bodies

Every JSON the surface takes (`events`, `chunks`, `sizes`, `lines`,
`headers`, the feed's POST body) is nested at most 32 deep and holds no lone
surrogate (`\\ud800` as a JSON escape: text UTF-8 cannot carry), in a string
or a key; anything else is malformed and gets a 400 before anything is stored
or streamed.

A client that leaves in the middle of a request body (the feed's POST,
`/conformance/bytes`) is no error of the server's: the request ends there,
with no 5xx and nothing reported as an application error.

## `GET /conformance/sse?events=JSON`

Streams the events of `JSON` as `text/event-stream`, in order, then ends the
response. `JSON` is a list of objects with the optional members `data`
(string), `event` (string), `id` (string), `retry` (integer, 0 or more) and
`comment` (string), each member meaning what the field of the same name
means in the format. Every object is one event, dispatched by a client: an
absent `data` means empty data, still written (as `data:` or `data: ` and
the blank line), so that `[{}]` is one event with empty data. The other
members are written only when present: an absent `event`, `id`, `retry` or
`comment` writes no line of that field. A `retry` that is negative, a
fraction, a boolean or a string is malformed (400).

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
leaves or the server shuts down (then it ends with a final event: see
"Shutdown" in the chapter "Cancellation and cleanup"); `keepalive=SECONDS` sets the interval of the
keep-alive comments on that idle stream (`0`: none at all; otherwise a number of seconds from
`0.05` to `3600`; any other value, `inf`, `nan` or `1e-300` among them, is answered with 400
before anything is streamed). Also optional:
`gate=NAME` (an event a chunk) and `headers=JSON`, both below.

## `GET /conformance/text?chunks=JSON`

Streams the strings of `JSON` (a list of strings) as a `text/plain;
charset=utf-8` body (the `charset` parameter is required, its value `utf-8` in
any letter case: HDR-TEXT-01): each string encoded as UTF-8 and sent as soon
as it is produced, in order, then the end of the response. An empty string is
a chunk of no bytes: a server may send it as an empty body message or not at
all. A malformed `chunks` parameter gets a 400.

Optional parameters: `gate=NAME` holds the producer at a gate (below);
`headers=JSON` (below); `declare_length=true` makes the response declare the body's length (its
UTF-8 bytes) in `Content-Length` while it is still streamed chunk by chunk.

## `POST /conformance/bytes?sizes=JSON`

Streams the request body back as `application/octet-stream`, cut into chunks
of the sizes in `JSON` (a list of integers, 0 included, adding up to the
body's length), each chunk sent as soon as it is produced, in order. Sizes
that are not such a list, or that do not add up to the body's length, get a
400; a body too large for the server (at least 8 MiB must be accepted; the kit
refuses more than 8 MiB) gets a 413 with `Connection: close`, and the server
closes the connection after it instead of reading the rest of the body.
Optional: `gate=NAME`, and `send_timeout=SECONDS` as on `/conformance/endless`
(absent, any value or none: no check depends on the default).

## `GET /conformance/log?lines=JSON`

Streams a text log as `text/plain; charset=utf-8`: each string of `JSON` (a
list of strings) becomes one line, the string's UTF-8 followed by one line
feed (byte 0x0A), each line its own chunk, sent as soon as it is produced.
The server writes the line feed itself, with the code its real log streams
use. A malformed `lines` parameter, or a line that contains CR or LF, gets a
400. Optional: `gate=NAME`. `HEAD` gets the same status and headers, with no body.

## `GET /conformance/ndjson?records=JSON`

Streams the values of `JSON` (a JSON array of any JSON values; NaN and the
infinities are not JSON) as NDJSON records (the chapter "NDJSON and JSON
Lines"): each value as one JSON text in UTF-8 followed by one LF, no raw
newline inside it, `Content-Type: application/x-ndjson` (or
`application/jsonl`), each record sent as soon as it is produced. Optional:
`gate=NAME` (the producer waits before each record after the first),
`fail_after=N` (the producer raises after N records; the body must then be
aborted, never ended cleanly). A malformed `records` gets a 400.
`GET /conformance/ndjson/cursor?id=ID` streams, the same way, the rows of an
endless SQLite query the kit runs (`{"n": N, "text": "row N"}`, one fetch at
a time in a worker thread); its producer reports under `id` at
`GET /conformance/observe` (`cleanup` once the cursor and the connection are
closed). The library's part is to close the producer when the client leaves.

## `POST /conformance/chat`

Streams a fake model's answer as a chat API does (the chapter "AI token
streams"), as `text/event-stream`. The body is a JSON object (at most 1 MiB;
nested and checked as every JSON body is) with the members, all optional:
`tokens` (a list of at most 10,000 strings, the model's output in order;
default none), `repeat` (the tokens made that many times over, 0 to 100,000;
default 1), `style` (`"openai"`, the default: data-only JSON chunks, each
token the `content` of `choices[0].delta`, ended by `data: [DONE]`; or
`"typed"`: `response.output_text.delta` events whose `delta` is the token,
ended by one terminal event, `response.completed`), `delay_ms` (how long the
model thinks before its first token, 0 to 600,000; default 0), `fail_after`
(the model fails after that many tokens: the stream tells it with an error
event and ends; default never), `keepalive` (seconds between keep-alive
comments while nothing else is sent: 0 for none, or 0.05 to 3600; default the
target's own) and `id` (1 to 100 characters: the model reports under it at
`GET /conformance/observe`: `started` once it starts thinking, `produced` the
tokens made, `cleanup` once it has stopped). A body that is not such an object
(not JSON, not UTF-8, an unknown member, a member of the wrong type or out of
range) gets a 400 before the model starts, a larger one a 413 with
`Connection: close`; no body gets a 5xx. Optional in the query: `gate=NAME`
and `gate_first=true` (below): the model waits at the gate before each token
after the first.

## Gates: `gate=NAME` and `/conformance/gates/NAME`

A gate lets the suite decide when a producer makes its next chunk, so that it
can look at what a client has received while the producer is known to be
blocked. `NAME` is 1 to 64 characters of `A-Z a-z 0-9 _ -`.

A stream requested with `gate=NAME` makes its first chunk at once, then, before
each further chunk, waits at the gate until it has been opened once more
(openings add up). With `gate_first=true` as well, it waits at the gate before
its first chunk too, its status and headers already sent: that is how the
suite sees a response whose first item does not exist yet (`gate_first` is
`true` or `false`, the default; anything else gets a 400). The gate belongs
to that stream from the moment the request is accepted until the stream ends.
A name already held by another stream gets a 409 and a malformed name a 400;
a server may answer 503 when it holds too many gates. A `HEAD` with
`gate=NAME` claims no gate (a malformed name still gets a 400): its response
has no body, so no producer would ever wait at the gate or give it back. A producer may give up
after waiting 30 seconds or more, ending its stream abnormally, so a client
that never opens its gate leaks nothing.

`POST /conformance/gates/NAME/wait`
: Answers `200` with `{"waiting": true, "produced": N}` as soon as the
  producer waits at the gate, having made `N` chunks, or with
  `{"waiting": false, "produced": N}` once its stream has ended (a server
  remembers at least the last 64 gates whose streams ended, and answers for
  them at once). The stream's request may arrive after this call: for a gate
  it does not know, the server waits for the stream (30 seconds or more), then
  answers 404.

`POST /conformance/gates/NAME/open`
: Lets the producer make one more chunk. `204`; `404` when no stream holds the gate.

`DELETE /conformance/gates/NAME`
: Opens the gate for good: the producer runs to its end without waiting.
  `204`; `404` when no stream holds the gate.

## `GET /conformance/endless?id=ID&kind=KIND`

Streams numbered lines as `text/plain`, one line a body chunk: item `n` (from
1) is `n` in ASCII decimal and a line feed (`1\\n`, `2\\n`, ...). They are made
by a producer of the given kind: `async` (an async generator that awaits
between items), `busy` (an async generator that never awaits) or `sync` (a
plain generator). The producer records under `ID` that it started, how many
items it produced, and, from its `finally` block, that its cleanup ran.

A target that has no plain streams but serves SSE (sse-starlette, say) may
serve the same producer as `text/event-stream` instead: item `n` is one event
whose data is `n` (`data: 1`, a blank line, ...), one event a chunk. The checks
read the items from either form, by the response's `Content-Type`. With
`form=sse`, a target that serves SSE streams the items so, as SSE events,
even if it has plain streams too (`CANCEL-SLOW-02` judges each kind of stream
it has); `form=text`, or no `form`, leaves the form to the target as above,
and any other value gets a 400.

The server records `ID` as soon as it accepts the request, GET or HEAD, before
any producer starts (`started` false, `produced` 0, `cleanup` false), so that
`GET /conformance/observe?id=ID` never answers 404 for a stream the suite has
asked for. A server that records only once a producer runs answers 404 after a
HEAD, and `CANCEL-HEAD-01` is then not observable.

Optional parameters, and what their absence means:

* `kind=KIND`: `async`, `busy` or `sync`; absent, `async`.
* `limit=N`: the stream ends, complete, after N items; absent, it has no end
  and goes on until the client leaves.
* `hold=N`: after N items the producer waits for ever, as on I/O that never
  completes (the checks use it with `kind=async` only); absent, no wait.
* `fail=N`: after N items the producer raises (below); absent, no failure.
* `size=BYTES`: each item is padded to BYTES bytes with dots before its number
  (`...12\\n`), an item already that long is not padded; absent, `0`: no
  padding.
* `send_timeout=SECONDS`: how long the server waits for a client to take a
  chunk before it abandons the stream, aborting it (no final chunk) and running
  the producer's cleanup; absent, the server's own default, any value or none
  (no check depends on the default).

With `fail=N`, items 1 to N arrive, then the server ends the response without
completing it: on the wire the last chunk never comes. An ASGI app may raise
(the reference re-raises the producer's error) or return without its final
`http.response.body` message (`more_body` false): a server aborts the
connection for both, and the suite accepts both. HEAD is answered with status
200 and the headers only: no body, and no producer started.

## `GET /conformance/observe?id=ID`

Answers JSON `{"started": bool, "produced": int, "cleanup": bool}` for the
producer recorded under `ID` (404 if there is none). With `until=started` or
`until=cleanup` it first waits until that is true, or until `timeout=SECONDS`
(at most 10) have passed, then answers the same object whether or not it came
true. A wait holds no worker thread of the server's: 60 concurrent waits leave
its other responses (a download, say) as fast as without them.

## `POST /conformance/feed/{name}` and `GET /conformance/feed/{name}`

A resumable SSE feed. POST a JSON list of strings: each becomes an event with
that data and the next id of the feed (`{"ids": [...]}` is answered); ids are
the server's choice, different for every event of a feed (the suite learns them
from the stream). The POST body is at most 64 KiB (65,536 bytes): a longer one,
by its `Content-Length` or by the bytes that arrive, is answered with 413 and
`Connection: close` before anything is published, and the server then closes
the connection instead of reading the rest of the body. GET streams the feed
as `text/event-stream`: every event held
after the one named by the `Last-Event-ID` request header (all held events,
oldest first, without it), then live events as they are published, without
end. The feed holds at least its last 64 events. A client whose `Last-Event-ID`
is not held (any value, of any length, that is not the id of a held
event) first receives an event of type `gap` whose data is JSON
`{"last_event_id": ..., "first_available": ...}`, then every event still held,
oldest first. The ids are the feed's own: decimal in memory, the entry ids of
Redis Streams (`1700000000000-0`) when the kit keeps its feeds there
(`Kit(feed=feed_backend("redis://..."))`, the reference's
`STREAMSPEC_FEED`). A feed whose store is lost (Redis unreachable) ends each
open stream with an event of type `unavailable`, without id, whose data is
JSON `{"reason": ...}`, and answers 503 until the store is back; the client
reconnects with its `Last-Event-ID`.

`CANCEL-RESUME-03` pushes the first event of a feed out of its buffer by
publishing 70 events, then, while the first is still held, as many again as
it has published so far (140, 280, ... up to 8960 in all); a feed that still
holds its first event after 8960 makes the rule not observable.

## Custom headers: `headers=JSON`

`GET /conformance/sse` and `GET /conformance/text` take an optional
`headers`, a JSON object of response headers the stream must carry unchanged,
as an app sets `X-Stream-Id`: names are `X-` followed by letters, digits and
hyphens, values are visible ASCII and spaces, with no space or tab at either
end. A value with CR, LF or NUL, a value that begins or ends with whitespace, a
name given twice (in any case), a header the stream sets itself
(`X-Accel-Buffering`, `X-Content-Type-Options`), or any malformed parameter,
gets a 400 before anything is streamed.

## `GET /conformance/sse/stop`

The answer a target gives an `EventSource` whose stream is over for good, so
that it stops reconnecting: `204 No Content`, no body.
## `GET|HEAD /conformance/files/{name}[?as=NAME]`

Downloads the conformance file `name` (a path below the served root), served
exactly as the target serves any file: the chapter "File download" holds it to
every rule of a download. A `Range` number of any length is read by its value
(RFC 9110 14.1.1), never refused for its length: a last position past the end
is the end, a first position past it makes the range unsatisfiable (416).
Optional: `send_timeout=SECONDS`, as on `/conformance/endless` (absent, any
value or none: no check depends on the default).

How the suite writes the name: each segment percent-encoded as UTF-8 (every
byte outside `A-Z a-z 0-9 - . _ ~` as `%XX`), and the `/` between segments
as a plain `/`: `sub/nested.txt` is sent as `/conformance/files/sub/nested.txt`,
never as `sub%2Fnested.txt`. A server must serve that spelling. A `%2F` (or
`%5C`, `%2e%2e`...) is sent only in the hostile names of `FILE-NAME-01` and
`FILE-NAME-02`, where a target may either serve the file the decoded name
plainly names (`sub%2Fnested.txt` decoded once is `sub/nested.txt`) or answer
404 or 400: both pass.

Every download, with `as` or without, carries `Content-Disposition`, of type
`attachment` or `inline` (either passes, in any case), whose file name (a
`filename*` when there is one, else `filename`) is `NAME` when `as` is given
and otherwise the file's own name, the last segment of its path (`nested.txt`
for `sub/nested.txt`). `as` is any non-empty UTF-8 text, percent-encoded in the
query (`+` is a space); the checks send quotes, backslashes, CR, LF, NUL and
emoji in it, as an app does that stores a file under one name and offers it
under another. An `as` that is empty (`as=`), given more than once, or whose
percent-decoded bytes are not UTF-8 gets a 400 and no file (`SURFACE-FILES-01`).

A 304 (rules `FILE-COND-01`, `FILE-COND-02`) carries no body, the file's
`ETag`, and every one of `Cache-Control`, `Content-Location`, `Date`,
`Expires` and `Vary` the 200 to the same request carries, with the same value
(`Date` its own) (RFC 9110 section 15.4.5). It may carry `Last-Modified` and
other fields too, or not; a `Content-Length` in a 304, if any, is the file's
size (RFC 9110 section 8.6).

The served root holds these files, whose content is given by a formula so
that the suite knows every byte without sharing a file with the target. The
content of a file named `N` of `S` bytes is the first `S` bytes of a run of
32-byte records: record `k` (from 0) is the first 8 hex digits of the SHA-256
of `N` in UTF-8, a colon, `k` in 22 lower-case hex digits, and LF
(`spec.surface.file_bytes`):

| name | bytes |
| --- | --- |
| `empty.txt` | 0 |
| `small.txt` | 1000 |
| `data.json` | 120 |
| `image.png` | 96 |
| `no-extension` | 300 |
| `unknown.streamspec` | 300 |
| `with space.txt` | 200 |
| `quote".txt` | 64 |
| `100%.txt` | 64 |
| `résumé ✓.txt` (NFC) | 500 |
| `sub/nested.txt` | 400 |
| `big.bin` | 8 MiB (8388608) |
| `changing.bin` | set by the `POST` below (any length before it) |

Besides them: `zeros-64MiB.bin` and `zeros-1GiB.bin`, that many zero bytes (a
server may create them sparse); `outside.txt`, a sibling of the root (not
inside it) holding `streamspec: this file is outside the served root` and a
LF; and three symlinks inside the root, `link-out.txt` → `../outside.txt`,
`dir-out` → `..` and `link-in.txt` → `small.txt`. A target whose file system
cannot hold one of these names or links leaves it out; the checks that need it
then see a 404.

## `POST /conformance/files/changing.bin?size=N`

Sets the length of `changing.bin` to `N` bytes (0 to 64 MiB) in place: the
same file (inode) is truncated, or extended with the formula's bytes, so that
a download that has it open sees the change. Its content is always the first
`N` bytes of the formula. Answers 204; a size out of range gets a 400. Its
length before the first `POST` is the target's choice (the reference starts
it empty): the checks set it with this `POST` before every request for the
file, and depend on nothing else. A
target without this control answers anything else, and the checks of a file
that changes during its download are then reported not observable.
"""

from __future__ import annotations

import anyio

from spec.capabilities import parse, requires
from spec.gates import GateControl, GateControlError, GateState, arrival_guard, new_gate
from spec.media import EVENT_STREAM, essence
from spec.messages import run_exchange
from spec.patience import within
from spec.rules import MUST, Chapter, Source, expect, not_observable, violation
from spec.sse import Event
from spec.streams import Fetched, fetch, served
from spec.surface import (
    BYTES_PATH,
    CAPABILITIES_PATH,
    CHAT_PATH,
    LOG_PATH,
    SSE_PATH,
    TEXT_PATH,
    bytes_params,
    file_bytes,
    file_path,
    file_target,
    gate_path,
    log_params,
    sse_params,
    text_params,
)
from spec.targets import harness
from spec.targets.client import StreamClient
from spec.targets.target import Target
from spec.wire import raw_fetch

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
    expect(
        essence(fetched.header("content-type")), EVENT_STREAM, "media type of GET /conformance/sse"
    )


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
    why = "its 400s would say nothing"
    await served(stream_client, "GET", SSE_PATH, params=sse_params([Event("x")]), why=why)
    malformed = ("not json", '{"data": "x"}', '[{"data": 1}]', "[1]", '[{"retry": "5"}]')
    bad_retries = ('[{"retry": -1}]', '[{"retry": 1.5}]', '[{"retry": true}]')
    for raw in (*malformed, *bad_retries):
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
    expect(
        essence(fetched.header("content-type")), "text/plain", "media type of GET /conformance/text"
    )
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
    why = "its 400s would say nothing"
    await served(stream_client, "GET", TEXT_PATH, params=text_params(["x"]), why=why)
    for raw in ("nope", '"text"', '["a", 1]'):
        fetched = await fetch(stream_client, "GET", TEXT_PATH, params=[("chunks", raw)])
        expect(fetched.status, 400, f"status of GET /conformance/text?chunks={raw}")


BYTES_ENDPOINT = chapter.rule(
    "SURFACE-BYTES-01",
    MUST,
    "POST /conformance/bytes streams its request body back cut at the requested sizes, and "
    "answers 400 when the sizes are malformed or do not add up to the body's length.",
    SURFACE,
)


@requires("bytes")
@BYTES_ENDPOINT.check
async def check_bytes_endpoint_echoes_and_refuses(target: Target) -> None:
    """Three chunks come back as sent; bad or mismatched sizes each get a 400."""
    body = b"\x00\xff\xfe-abc"
    exchange = await run_exchange(
        target.app, "POST", BYTES_PATH, bytes_params([1, 0, 6]), body, prefix=target.prefix
    )
    expect(exchange.status, 200, "status of POST /conformance/bytes")
    expect(exchange.body, body, "body of POST /conformance/bytes")
    for raw in ("nope", "[1, -1, 8]", '["8"]', "[3]", "[9]", "[true, 7]"):
        exchange = await run_exchange(
            target.app, "POST", BYTES_PATH, [("sizes", raw)], body, prefix=target.prefix
        )
        expect(exchange.status, 400, f"status of POST /conformance/bytes?sizes={raw}")


LOG_ENDPOINT = chapter.rule(
    "SURFACE-LOG-01",
    MUST,
    "GET /conformance/log answers 400 when the lines parameter is not a list of strings or a "
    "line contains CR or LF.",
    SURFACE,
)


@requires("log")
@LOG_ENDPOINT.check
async def check_malformed_log_lines_get_400(stream_client: StreamClient) -> None:
    """Not JSON, not a list of strings, a line with LF or CR: each a 400, never a forged line."""
    why = "its 400s would say nothing"
    await served(stream_client, "GET", LOG_PATH, params=log_params(["x"]), why=why)
    for raw in ("nope", '"line"', '["a", 1]', '["a\\nforged"]', '["a\\rb"]'):
        fetched = await fetch(stream_client, "GET", LOG_PATH, params=[("lines", raw)])
        expect(fetched.status, 400, f"status of GET /conformance/log?lines={raw}")


CHAT_ENDPOINT = chapter.rule(
    "SURFACE-CHAT-01",
    MUST,
    "POST /conformance/chat answers 400 when its body is not a JSON object of the surface's"
    " members (not JSON or UTF-8, nested too deep, a lone surrogate, an unknown member, a wrong"
    " type, a value out of range), never a 5xx.",
    SURFACE,
)

_BAD_CHAT_BODIES = (
    b"not json",
    b"\xff{}",
    b"[]",
    b"[" * 1000,
    b'{"tokens": ["\\ud800"]}',
    b'{"tokens": [1]}',
    b'{"tokens": [], "style": "other"}',
    b'{"tokens": [], "delay_ms": -1}',
    b'{"tokens": [], "keepalive": 1e400}',
    b'{"prompt": "x"}',
)


@requires("chat")
@CHAT_ENDPOINT.check
async def check_malformed_chat_bodies_get_400(stream_client: StreamClient) -> None:
    """Each malformed body a 400, after a body the surface serves. (The 413 past 1 MiB is not
    judged: over a socket the server closes the connection while the client still sends, and
    the client may see the reset before the answer.)"""
    why = "its refusals would say nothing"
    headers = [("content-type", "application/json")]
    await served(
        stream_client, "POST", CHAT_PATH, headers=headers, body=b'{"tokens": ["a"]}', why=why
    )
    for body in _BAD_CHAT_BODIES:
        fetched = await fetch(stream_client, "POST", CHAT_PATH, headers=headers, body=body)
        expect(fetched.status, 400, f"status of POST {CHAT_PATH} with the body {body[:30]!r}")


GATES = chapter.rule(
    "SURFACE-GATE-01",
    MUST,
    "A stream requested with gate=NAME makes its first chunk (with gate_first=true, sends its "
    "headers and waits first), then waits at the gate before each further chunk until it is "
    "opened, as /conformance/gates/NAME reports.",
    SURFACE,
)


@requires("text", "gates")
@GATES.check
async def check_gate_holds_the_producer(stream_client: StreamClient) -> None:
    """Three gated chunks: the producer waits after the first and the second, then ends."""
    gate = new_gate()
    control = GateControl(stream_client)
    chunks = ["one\n", "two\n", "three\n"]
    params = [*text_params(chunks), ("gate", gate)]
    states: list[GateState] = []
    received = b""
    async with (
        stream_client.stream("GET", TEXT_PATH, params=params) as response,
        control.unlocked_on_exit(gate),
    ):
        for _ in range(2):
            states.append(await control.wait(gate))
            await control.open(gate)
        async for chunk in response.chunks():
            received += chunk
    states.append(await control.wait(gate))
    expect(
        states,
        [GateState(True, 1), GateState(True, 2), GateState(False, 3)],
        "what POST /conformance/gates/NAME/wait answered after each chunk and at the end",
    )
    expect(received, "".join(chunks).encode(), "body of the gated stream")


@requires("text", "gates")
@GATES.check
async def check_gate_control_refuses_what_it_cannot_do(stream_client: StreamClient) -> None:
    """Opening a gate no stream holds is a 404; a malformed gate name is a 400."""
    why = "its 404s and 400s would say nothing"
    await served(stream_client, "GET", TEXT_PATH, params=text_params(["x"]), why=why)
    fetched = await fetch(stream_client, "POST", gate_path(new_gate(), "open"))
    expect(fetched.status, 404, "status of opening a gate no stream holds")
    params = [*text_params(["x"]), ("gate", "no spaces/allowed")]
    fetched = await fetch(stream_client, "GET", TEXT_PATH, params=params)
    expect(fetched.status, 400, "status of a stream asked for with a malformed gate name")


@requires("text", "gates")
@GATES.check
async def check_gate_first_holds_the_producer_before_its_first_chunk(
    stream_client: StreamClient,
) -> None:
    """With gate_first=true the status arrives while the producer waits having made nothing;
    opened once, it makes one chunk and waits again; opened for good, it runs to its end."""
    gate = new_gate()
    control = GateControl(stream_client)
    chunks = ["one\n", "two\n"]
    params = [*text_params(chunks), ("gate", gate), ("gate_first", "true")]
    headers_in = anyio.Event()
    seen: dict[str, int | bytes] = {}
    states: list[GateState] = []
    failed: list[Exception] = []

    async def request() -> None:
        async with stream_client.stream("GET", TEXT_PATH, params=params) as response:
            seen["status"] = response.status
            headers_in.set()
            seen["body"] = b"".join([chunk async for chunk in response.chunks()])

    async with control.unlocked_on_exit(gate), anyio.create_task_group() as group:
        group.start_soon(request)
        try:
            states.append(await control.wait(gate))
            # A load-aware window: the status is due already.
            await within(arrival_guard(), headers_in.wait)
            seen["status before chunk 1"] = int(headers_in.is_set())
            await control.open(gate)
            states.append(await control.wait(gate))
            await control.unlock(gate)
        except GateControlError as error:  # judged below, outside the task group
            failed.append(error)
            group.cancel_scope.cancel()
    if failed:
        violation("the gate control of a stream asked with gate_first=true", "answers", failed[0])
    expect(
        states,
        [GateState(True, 0), GateState(True, 1)],
        "what POST /conformance/gates/NAME/wait answered before and after the first opening",
    )
    expect(seen["status before chunk 1"], 1, "status received while the producer waits")
    expect(seen.get("status"), 200, "status of the stream gated before its first chunk")
    expect(seen.get("body"), "".join(chunks).encode(), "body of the stream gated before its first")


FILES_NAME_PARAMETER = chapter.rule(
    "SURFACE-FILES-01",
    MUST,
    "GET /conformance/files/{name} answers 400 when `as` is empty, given more than once, or "
    "not UTF-8 once percent-decoded, and serves the file under any other `as`.",
    SURFACE,
)

_BAD_NAMES = (b"as=", b"as=a.txt&as=b.txt", b"as=%FF.txt", b"as=caf%E9.txt", b"as=a&x=1&as=")


async def _raw_query(stream_client: StreamClient, name: str, query: bytes) -> Fetched:
    """GET the conformance file *name* with the raw query string *query*, bytes as given."""
    if stream_client.transport == "socket":
        base_url = getattr(stream_client, "base_url", None)
        if base_url is None:
            not_observable("the socket client does not say which server it reads")
        return await raw_fetch(base_url, "GET", file_target(name) + b"?" + query)
    app = getattr(stream_client, "app", None)
    if app is None:
        not_observable("the client does not say which app it calls")
    prefix = str(getattr(stream_client, "prefix", ""))
    scope = {**harness.build_scope("GET", file_path(name), prefix=prefix), "query_string": query}
    with anyio.fail_after(30):
        async with harness.exchange(app, scope) as exchange:
            await exchange.wait_start()
            async for _ in exchange.iter_body():
                pass
    fetched = Fetched(exchange.status, exchange.headers)
    fetched.chunks.append(exchange.body)
    return fetched


@requires("files")
@FILES_NAME_PARAMETER.check
async def check_malformed_download_names_get_400(stream_client: StreamClient) -> None:
    """``as=x%20y.txt`` gets the file; ``as=``, ``as`` twice and ``as=%FF.txt`` (Latin-1
    bytes, not UTF-8) each get a 400 and no byte of the file."""
    fetched = await _raw_query(stream_client, "small.txt", b"as=x%20y.txt")
    expect(fetched.status, 200, "status of GET small.txt?as=x%20y.txt")
    for query in _BAD_NAMES:
        fetched = await _raw_query(stream_client, "small.txt", query)
        what = f"GET small.txt?{query.decode('ascii')}"
        expect(fetched.status, 400, f"status of {what}")
        if file_bytes("small.txt", 64) in fetched.body:
            violation(f"the body of {what}", "no byte of the file", fetched.body[:64])
