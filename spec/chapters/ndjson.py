"""NDJSON and JSON Lines: one JSON record a line, each as it is made.

Newline-delimited JSON (`application/x-ndjson`, NDJSON 1.0) and JSON Lines
(`application/jsonl`) stream a sequence of JSON values, a database cursor's
rows or a log's entries, as *records*: every record is one JSON text
(RFC 8259) in UTF-8 followed by one LF (`0x0A`). A string value holding a
newline is written with the escape `\\n`, never a raw LF: a raw LF would end
the record in the middle of the text, and a client splitting on LF would see
two broken records. Because the byte `0x0A` never occurs inside a multi-byte
UTF-8 sequence, a client can cut on LF bytes wherever its reads end (inside a
character included) and decode each whole line on its own; the suite's
decoder (`spec/ndjson/`, sans-IO) does exactly that, and its round trip is
shown for any records and any cut points (`tests/test_ndjson_core.py`).

A target serves `GET /conformance/ndjson` (the chapter "Conformance surface")
and declares the capability `ndjson`; a target that does not declare it gets
these rules *not applicable*. The suite asks for records (`records=JSON`),
holds the producer at a gate before each record after the first (`gate=`,
as the CHUNK chapter does) and asks for a producer that fails after N records
(`fail_after=N`). A record may be sent in several body messages, and several
records in one: only the bytes are judged, never where the chunks fall.

NDJSON has no end marker: a client knows a stream is complete only because
the body ended cleanly (the last chunk of the chunked coding, or the
`more_body: false` message). A producer that fails after the 200 status must
therefore abort the body (reset the connection, no last chunk) instead of
ending it, or a truncated result set would look complete. RFC 7464's
`application/json-seq` (an RS byte before each text) is another framing a
producer may choose; the suite's decoder reads NDJSON and JSON Lines only.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spec import strategies
from spec.capabilities import requires
from spec.ndjson import Decoder, Malformed, Record, Truncated
from spec.rules import MUST, SHOULD, Chapter, Source, expect, violation
from spec.stepping import open_stepped
from spec.streams import Fetched, fetch
from spec.surface import NDJSON_PATH
from spec.targets.client import StreamClient

chapter = Chapter(__name__)
pytestmark = requires("ndjson")

NDJSON_SPEC = Source(
    "NDJSON 1.0", "3. Functional specification", "https://github.com/ndjson/ndjson-spec"
)
JSON_LINES = Source("JSON Lines", "the format", "https://jsonlines.org/")
RFC_8259 = Source("RFC 8259", "8.1 Character Encoding", "https://www.rfc-editor.org/rfc/rfc8259")
RFC_9112_CHUNKED = Source(
    "RFC 9112", "7.1 Chunked Transfer Coding", "https://www.rfc-editor.org/rfc/rfc9112#section-7.1"
)

MEDIA_TYPES = ("application/x-ndjson", "application/jsonl", "application/json-seq")

RECORDS: list[Any] = [
    {"id": 1, "text": "line one\nline two", "tags": ["a", "b"]},
    "例子 🎉 \u2028 \r",
    [1, 2.5, -0.0, None, True, False],
    {},
    "",
]
"""Records with a newline and a CR inside strings, multi-byte characters, U+2028, empties."""

NDJSON_TYPE = chapter.rule(
    "NDJSON-TYPE-01",
    SHOULD,
    "An NDJSON stream is sent with the media type application/x-ndjson"
    " (application/jsonl for JSON Lines).",
    NDJSON_SPEC,
)
NDJSON_RECORD = chapter.rule(
    "NDJSON-REC-01",
    MUST,
    "Every record is one JSON text in UTF-8 followed by one LF, with no raw newline inside it,"
    " and the records decode to the values produced, in order.",
    NDJSON_SPEC,
)
NDJSON_ANY = chapter.rule(
    "NDJSON-REC-02",
    MUST,
    "Any JSON values the producer makes (strings holding LF, CR, U+2028, NUL, any character)"
    " arrive as exactly those records.",
    RFC_8259,
)
NDJSON_EACH = chapter.rule(
    "NDJSON-INC-01",
    MUST,
    "Each record is delivered to the client before the producer makes the next one.",
    JSON_LINES,
    why="JSON Lines is for streaming: a record held back until the end turns a cursor's"
    " rows into one slow download.",
    beyond_source=True,
)
NDJSON_ABORT = chapter.rule(
    "NDJSON-ERR-01",
    MUST,
    "When the producer fails after the response has started, the records made so far arrive"
    " and the body is aborted, never ended cleanly.",
    RFC_9112_CHUNKED,
    why="NDJSON has no end marker: only a clean end tells a complete stream from a cut one.",
    beyond_source=True,
)


def records_params(records: list[Any], **extra: str) -> list[tuple[str, str]]:
    """The query of ``GET /conformance/ndjson`` streaming *records*."""
    return [("records", json.dumps(records)), *extra.items()]


def decode(body: bytes) -> list[Record | Malformed | Truncated]:
    decoder = Decoder()
    items: list[Record | Malformed | Truncated] = [*decoder.feed(body)]
    return [*items, *decoder.close()]


def expect_records(fetched: Fetched, records: list[Any], what: str) -> None:
    """*fetched* is a clean 200 body of exactly *records*, each well framed."""
    expect(fetched.status, 200, f"the status of {what}")
    if fetched.aborted:
        violation(what, "a body that ends cleanly", f"aborted: {fetched.error}")
    for item in decode(fetched.body):
        if isinstance(item, Malformed):
            violation(f"a record of {what}", "one JSON text in UTF-8, then LF", item)
        if isinstance(item, Truncated):
            violation(f"the end of {what}", "the last record ended by LF", item)
    values = [item.value for item in decode(fetched.body) if isinstance(item, Record)]
    expect(values, records, f"the records of {what}")


@NDJSON_TYPE.check
async def check_media_type(stream_client: StreamClient) -> None:
    """The Content-Type of the stream names one of the NDJSON media types."""
    fetched = await fetch(stream_client, "GET", NDJSON_PATH, params=records_params([1]))
    expect(fetched.status, 200, "the status of the NDJSON stream")
    media = (fetched.header("content-type") or "").split(";")[0].strip().lower()
    if media not in MEDIA_TYPES:
        violation("the Content-Type of the NDJSON stream", " or ".join(MEDIA_TYPES), media)


@NDJSON_RECORD.check
async def check_records_are_framed(stream_client: StreamClient) -> None:
    """The chapter's tricky records arrive each as one JSON text in UTF-8 and one LF."""
    fetched = await fetch(stream_client, "GET", NDJSON_PATH, params=records_params(RECORDS))
    expect_records(fetched, RECORDS, "the NDJSON stream")


@NDJSON_ANY.check
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(records=st.lists(strategies.json_values(), max_size=6))
async def check_any_records_arrive(stream_client: StreamClient, records: list[Any]) -> None:
    """Records hypothesis draws arrive as exactly those values."""
    fetched = await fetch(stream_client, "GET", NDJSON_PATH, params=records_params(records))
    expect_records(fetched, records, f"the NDJSON stream of {len(records)} records")


@NDJSON_EACH.check
async def check_each_record_arrives_before_the_next(stream_client: StreamClient) -> None:
    """With the producer held before each record, the records made so far have arrived."""
    records = ["first", "例子\n", "", "last"]
    async with open_stepped(stream_client, "ndjson", records) as stream:
        for number in range(1, len(records) + 1):
            await stream.go_for(number)

            def done(decoded: bytes, number: int = number) -> bool:
                return decoded.count(b"\n") >= number

            decoded = await stream.read_until(done, f"record {number} of {len(records)}")
            values = [item.value for item in decode(decoded) if isinstance(item, Record)]
            expect(values[:number], records[:number], f"the records after record {number}")


@NDJSON_ABORT.check
async def check_failure_aborts_the_body(stream_client: StreamClient) -> None:
    """A producer failing after two records: those two arrive, then the body is aborted."""
    fetched = await fetch(
        stream_client, "GET", NDJSON_PATH, params=records_params(RECORDS, fail_after="2")
    )
    expect(fetched.status, 200, "the status of the failing NDJSON stream")
    values = [item.value for item in decode(fetched.body) if isinstance(item, Record)]
    expect(values, RECORDS[:2], "the records made before the failure")
    if not fetched.aborted:
        violation(
            "the end of the body after the producer failed",
            "an aborted body (no clean end)",
            "a clean end: the truncated stream looks complete",
        )
