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

## `GET /conformance/text?chunks=JSON`

Streams the strings of `JSON` (a list of strings) as a `text/plain;
charset=utf-8` body: each string encoded as UTF-8 and sent as soon as it is
produced, in order, then the end of the response. A malformed `chunks`
parameter gets a 400.

## `GET|HEAD /conformance/files/{name}[?as=NAME]`

Downloads the conformance file `name` (a path below the served root, sent
percent-encoded), served exactly as the target serves any file: the chapter
"File download" holds it to every rule of a download. With `as`, the file is
offered to the client under the name `NAME` in `Content-Disposition` (any
text: the checks send quotes, backslashes, CR, LF, NUL and emoji in it), as an
app does that stores a file under one name and offers it under another.

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
| `changing.bin` | set by the `POST` below |

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
`N` bytes of the formula. Answers 204; a size out of range gets a 400. A
target without this control answers anything else, and the checks of a file
that changes during its download are then reported not observable.
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
