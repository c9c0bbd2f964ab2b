"""Server-Sent Events: what a server writes.

A server turns each event into lines of `text/event-stream`; the client of the
previous chapter turns them back. The two meet only if the server never lets
the content of an event change the framing around it. Three mistakes account
for most broken streams:

* writing `f"data: {text}\\n\\n"` by hand: a newline inside `text` starts a line
  the client reads as a new field, or as the end of the event;
* splitting data with Python's `str.splitlines()`, which also splits at
  U+2028, U+0085, form feed and others that are not line ends in this format;
* cleaning an `id` or an event type (stripping a newline) instead of refusing
  it: the client then resumes from an id the server never issued.

Not every f-string is the first mistake. `f"data: {json.dumps(value)}\\n\\n"`
is framing-safe: `json.dumps` writes a line break inside a string as the two
characters `\\n` (and CR as `\\r`), and with its default `indent=None` adds
no line break of its own, so the JSON text is one line. With `indent=2` it is
several, and each needs its own `data:` line; `ensure_ascii=False` keeps
U+2028 and U+0085 as they are, which is harmless here, since only CR and LF
end a line of an event stream.

The checks of this chapter ask the target to stream events of the suite's
choosing through the conformance surface (`GET /conformance/sse`, see the
chapter "Conformance surface"), read the stream at the ASGI message level and
over a real socket, decode it with the suite's decoder, and compare what a
browser would dispatch with what was sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spec import strategies
from spec.capabilities import Capabilities, requires
from spec.feeding import cut
from spec.rules import MUST, Chapter, expect, not_observable, violation
from spec.sources import SSE_AUTHORING, SSE_INTERPRETING, SSE_PARSING
from spec.sse import Decoder, Event, MessageEvent
from spec.sse.model import Observed, expected_observation
from spec.streams import Fetched, fetch, served
from spec.surface import SSE_PATH, sse_params
from spec.targets.client import StreamClient

chapter = Chapter(__name__)
pytestmark = requires("sse")


async def stream_events(client: StreamClient, events: Sequence[Event]) -> Fetched:
    """Ask the target to stream *events* and read the response to its end."""
    return await fetch(client, "GET", SSE_PATH, params=sse_params(events))


def observe(fetched: Fetched, chunks: Sequence[bytes] | None = None) -> Observed:
    """Decode a response as a browser would (the bytes as they came, unless *chunks* is given)."""
    decoder = Decoder()
    items = []
    for chunk in fetched.chunks if chunks is None else chunks:
        items.extend(decoder.feed(chunk))
    items.extend(decoder.close())
    return Observed.of(items)


async def assert_round_trip(client: StreamClient, events: Sequence[Event], what: str) -> None:
    """The target streams *events* and a browser would dispatch exactly them."""
    fetched = await stream_events(client, events)
    expect(fetched.status, 200, f"status of the stream of {what}")
    if fetched.aborted:
        violation(f"the stream of {what}", "a complete response", fetched.error)
    expected = expected_observation(events)
    seen = observe(fetched)
    expect(seen.events, expected.events, f"events dispatched from the stream of {what}")
    expect(seen.retries, expected.retries, f"retry values accepted from the stream of {what}")
    expect(seen.comments, expected.comments, f"comments in the stream of {what}")


async def assert_refused(client: StreamClient, event: Event, control: Event, what: str) -> None:
    """The target refuses *event*: a 4xx, or a stream that dispatches nothing for it.

    First the *control*, the same event with a value that can be written, must
    be streamed and dispatched: refusing what one refuses everything is no sign.
    """
    why = f"refusing an event whose {what} would prove nothing"
    answer = await served(client, "GET", SSE_PATH, params=sse_params([control]), why=why)
    dispatched = observe(answer).events
    if dispatched != expected_observation([control]).events:
        not_observable(
            f"the clean event {control!r} was dispatched as {list(dispatched)}, so {why}"
        )
    fetched = await stream_events(client, [event])
    if 400 <= fetched.status < 500:
        return
    seen = observe(fetched)
    if seen.events:
        violation(
            f"the response to an event whose {what}",
            "a 4xx refusal, or no event dispatched",
            f"status {fetched.status}, dispatched {list(seen.events)}",
        )


EVENT_END = chapter.rule(
    "SSE-ENC-01",
    MUST,
    "Every event is written as field lines followed by a blank line, so a client "
    "dispatches it as soon as it arrives.",
    SSE_PARSING,
    why="An event without its blank line is never dispatched, and the client shows nothing "
    "while the stream goes on: the tutorial as published ends its events with `nn`, its "
    "newlines lost in publication, so an `EventSource` dispatches none of them (the "
    "README's peer matrix).",
)


@EVENT_END.check
async def check_events_end_with_blank_line(stream_client: StreamClient) -> None:
    """Three plain events are dispatched as three events, in order."""
    events = [Event("first"), Event("second"), Event('{"n": 3}')]
    await assert_round_trip(stream_client, events, "three plain events")


@EVENT_END.check
async def check_each_event_is_complete_in_the_stream(stream_client: StreamClient) -> None:
    """Each event is dispatched from the bytes before the next event's bytes.

    The stream is decoded one event's worth at a time: the blank line of each
    event must be in the stream before the first byte of the next one.
    """
    events = [Event("a"), Event("b")]
    fetched = await stream_events(stream_client, events)
    decoder = Decoder()
    dispatched: list[MessageEvent] = []
    for byte in fetched.body:
        dispatched.extend(i for i in decoder.feed(bytes([byte])) if isinstance(i, MessageEvent))
        if len(dispatched) == 1:
            break
    expect(
        [e.data for e in dispatched], ["a"], "events dispatched before the stream's second event"
    )


MULTILINE = chapter.rule(
    "SSE-ENC-02",
    MUST,
    "Data containing line breaks is written as one data line per line, split at "
    "CR, LF and CRLF, so the client rebuilds it joined with LF.",
    SSE_AUTHORING,
    why="Data written on one `data:` line is cut at its first line break: the rest is a field "
    "the client does not know and drops or, when the data holds a blank line, the end of "
    "the event, after which the data's own lines (`event: …`, `id: …`) are read as fields. "
    "Data that comes from users can forge events that way.",
)


@MULTILINE.check
async def check_lf_in_data(stream_client: StreamClient) -> None:
    """JSON pretty-printed over three lines arrives as one event of three lines."""
    events = [Event('{\n  "a": 1\n}'), Event("after")]
    await assert_round_trip(stream_client, events, "data with LF")


@MULTILINE.check
async def check_cr_and_crlf_in_data(stream_client: StreamClient) -> None:
    """CR and CRLF in data become LF at the client, and nothing leaks out as a field."""
    events = [Event("a\r\nb\rc"), Event("x\r\n\r\nevent: forged")]
    await assert_round_trip(stream_client, events, "data with CR and CRLF")


@MULTILINE.check
async def check_blank_lines_in_data(stream_client: StreamClient) -> None:
    """Leading, trailing and doubled line breaks survive: none ends the event early."""
    events = [Event("\nlead"), Event("trail\n"), Event("a\n\nb"), Event("\n")]
    await assert_round_trip(stream_client, events, "data with blank lines")


ONLY_LINE_ENDS = chapter.rule(
    "SSE-ENC-03",
    MUST,
    "Data is split only at CR, LF and CRLF: U+2028, U+2029, U+0085, VT, FF and "
    "FS, GS, RS are written inside their line.",
    SSE_PARSING,
    why="A server that splits data with `str.splitlines()` also splits it at U+2028, form feeds "
    "and the like, so it writes one line as several, and the client joins them with LF: "
    "data that held U+2028 or a form feed arrives with a line feed in its place.",
)


@ONLY_LINE_ENDS.check
async def check_unicode_line_separators_stay_in_line(stream_client: StreamClient) -> None:
    """The characters ``str.splitlines`` splits at, but this format does not, arrive unchanged.

    Splitting at them adds LF characters to the data the client sees (a bug that
    has shipped in Python SSE libraries).
    """
    text = "a\u2028b\u2029c\x85d\x0be\x0cf\x1cg\x1dh\x1ei"
    await assert_round_trip(stream_client, [Event(text)], "data with Unicode line separators")


EMPTY_DATA = chapter.rule(
    "SSE-ENC-04",
    MUST,
    "An event with empty data is still written with a data line, so the client dispatches it.",
    SSE_INTERPRETING,
    why="An event written without a data line is a blank line with an empty data buffer, which "
    "dispatches nothing (SSE-PARSE-09): an empty string sent as a signal (a heartbeat, the "
    "end of a list) is never heard.",
)


@EMPTY_DATA.check
async def check_empty_data_is_dispatched(stream_client: StreamClient) -> None:
    """An empty event between two others is dispatched, with empty data."""
    events = [Event("a"), Event(""), Event("", event="ping"), Event("b")]
    await assert_round_trip(stream_client, events, "events with empty data")


LEADING_SPACE = chapter.rule(
    "SSE-ENC-05",
    MUST,
    "A value that begins with a space or a colon, or contains colons, arrives "
    "unchanged: the server writes exactly one space after the field's colon.",
    SSE_INTERPRETING,
    why="The client removes exactly one space after the colon (SSE-PARSE-06): a server that "
    "writes `data:` and a value starting with a space, with no space of its own between "
    "them, loses that space, and an AI token stream's words run together (` world` arrives "
    "as `world`).",
)


@LEADING_SPACE.check
async def check_leading_space_and_colons_survive(stream_client: StreamClient) -> None:
    """Values beginning with spaces or colons keep them, in data, type and id."""
    events = [
        Event(" one space"),
        Event("  two spaces"),
        Event(":colon: inside"),
        Event("x", event=" spaced type", id=" spaced id"),
    ]
    await assert_round_trip(stream_client, events, "values with leading spaces and colons")


TYPE_AND_ID = chapter.rule(
    "SSE-ENC-06",
    MUST,
    "Each event's type and id reach the client as given: an event without an id "
    "keeps the last one, and an empty id resets it.",
    SSE_INTERPRETING,
    why="The type picks the listener (`addEventListener(type, …)`) and the id is what a "
    "reconnection resumes from: a server that writes an empty `id:` line for an event that "
    "has no id resets the client's last event id, and the next reconnection starts the "
    "stream over.",
)


@TYPE_AND_ID.check
async def check_types_and_ids(stream_client: StreamClient) -> None:
    """Typed events, ids that persist, and an empty id that resets, as a browser sees them."""
    events = [
        Event("1", event="add", id="1"),
        Event("2", event="remove"),
        Event("3", id=""),
        Event("4", event="", id="4"),
    ]
    await assert_round_trip(stream_client, events, "events with types and ids")


REFUSE_LINE_BREAKS = chapter.rule(
    "SSE-ENC-07",
    MUST,
    "An event whose type or id contains CR or LF is refused (preferably with a "
    "4xx before the stream starts), never written altered or as it is.",
    SSE_PARSING,
    why="Written as it is, a line break in an id or a type ends its line, and the rest becomes "
    "a field of the event (`event: a\\ndata: forged` adds data the application never sent); "
    "cleaned, the id `a\\nb` reaches the client as `ab`, an id the server never issued, "
    "which a reconnection then sends back. sse-starlette 3.7.0 and Litestar 2.25.0 delete "
    "the line breaks (the README's peer matrix).",
)


@REFUSE_LINE_BREAKS.check
async def check_id_with_line_break_is_refused(stream_client: StreamClient) -> None:
    """An id ``a\\nb`` is refused: stripped to ``ab`` it names an event that never existed."""
    for value in ("a\nb", "a\rb", "a\r\nb", "ab\n"):
        clean = value.replace("\r", "").replace("\n", "")
        await assert_refused(
            stream_client, Event("x", id=value), Event("x", id=clean), f"id is {value!r}"
        )


@REFUSE_LINE_BREAKS.check
async def check_type_with_line_break_is_refused(stream_client: StreamClient) -> None:
    """An event type ``a\\ndata: forged`` is refused: written as is, it forges data."""
    for value in ("a\ndata: forged", "a\rb"):
        clean = value.replace("\r", "").replace("\n", "")
        await assert_refused(
            stream_client, Event("x", event=value), Event("x", event=clean), f"type is {value!r}"
        )


REFUSE_NUL_ID = chapter.rule(
    "SSE-ENC-08",
    MUST,
    "An event whose id contains NUL is refused, never written altered or as it "
    "is (a client ignores such an id, so resuming would silently break).",
    SSE_INTERPRETING,
)


@REFUSE_NUL_ID.check
async def check_id_with_nul_is_refused(stream_client: StreamClient) -> None:
    """An id ``7\\0`` is refused rather than sent (ignored by clients) or stripped to ``7``."""
    await assert_refused(stream_client, Event("x", id="7\0"), Event("x", id="7"), "id contains NUL")


RETRY = chapter.rule(
    "SSE-ENC-09",
    MUST,
    "A retry value is written as ASCII digits, zero included, so the client accepts it; a "
    "retry that is not a non-negative integer (negative, a fraction, a boolean, a string) is "
    "refused, never written altered or as it is.",
    SSE_INTERPRETING,
    why="A browser ignores a `retry:` that is not ASCII digits (SSE-PARSE-13): `1.5`, `-1` and "
    "`True` (Python's `str(True)`) leave the reconnection time unchanged, and `1.5` written "
    "as `1` sets one the application did not mean.",
)

INVALID_RETRIES = ("-1", "1.5", "1e3", "true", '"5"')
"""``retry`` members the surface's JSON can carry that no ``retry:`` line can say as sent."""


@RETRY.check
async def check_retry_values_are_accepted(stream_client: StreamClient) -> None:
    """``retry`` 0 and 1500 both reach the client's reconnection time."""
    events = [Event("a", retry=1500), Event("b", retry=0)]
    await assert_round_trip(stream_client, events, "events with retry")


@RETRY.check
async def check_invalid_retry_is_refused(stream_client: StreamClient) -> None:
    """``retry`` -1, 1.5, 1e3, ``true`` and ``"5"`` are each refused: a 4xx, or at least no
    ``retry`` line (written as ``1`` or ``True`` it would be altered or ignored)."""
    control = [Event("x", retry=1500)]
    why = "refusing other retry values would prove nothing"
    await served(stream_client, "GET", SSE_PATH, params=sse_params(control), why=why)
    for raw in INVALID_RETRIES:
        events = f'[{{"data": "x", "retry": {raw}}}]'
        fetched = await fetch(stream_client, "GET", SSE_PATH, params=[("events", events)])
        if 400 <= fetched.status < 500:
            continue
        written = [
            line
            for line in fetched.body.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
            if line.startswith(b"retry")
        ]
        if written:
            violation(
                f"the response to an event whose retry is {raw}",
                "a 4xx refusal, or no retry line",
                f"status {fetched.status}, wrote {written}",
            )


COMMENT_LINES = chapter.rule(
    "SSE-ENC-10",
    MUST,
    "A comment containing line breaks is written as one comment line per line, "
    "so no part of it becomes a field or ends an event.",
    SSE_PARSING,
    why="A comment is one line: a line break inside it ends the comment, and what follows is "
    "read as a field (`: ok\\ndata: x` sets data) or, as a blank line, dispatches the event "
    "being built.",
)


@requires("comments")
@COMMENT_LINES.check
async def check_multiline_comment_injects_nothing(stream_client: StreamClient) -> None:
    """A comment holding ``data:`` and ``id:`` lines and a blank line dispatches nothing of them."""
    events = [Event("real", comment="note\ndata: injected\n\nid: forged\r\nend")]
    await assert_round_trip(stream_client, events, "an event with a multi-line comment")


UTF8_TEXT = chapter.rule(
    "SSE-ENC-11",
    MUST,
    "Text is written as UTF-8, and every character, NUL and U+FEFF included, arrives unchanged.",
    SSE_PARSING,
)


@UTF8_TEXT.check
async def check_unicode_and_nul_survive(stream_client: StreamClient) -> None:
    """Accents, CJK, emoji, NUL and a byte order mark inside data all arrive as sent."""
    events = [Event("café 例子 🎉"), Event("nul:\0:end"), Event("\ufeffbom")]
    await assert_round_trip(stream_client, events, "non-ASCII and NUL data")


ROUND_TRIP = chapter.rule(
    "SSE-ENC-12",
    MUST,
    "Any sequence of valid events arrives as sent, over every transport, "
    "however the bytes of the stream are cut on the way.",
    SSE_PARSING,
)


@ROUND_TRIP.check
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    events=st.lists(strategies.events(), min_size=1, max_size=6),
    cuts=st.lists(st.integers(min_value=0, max_value=4096), max_size=12),
)
async def check_any_events_round_trip(
    stream_client: StreamClient, capabilities: Capabilities, events: list[Event], cuts: list[int]
) -> None:
    """Hypothesis draws events and cut points; the stream, however cut, decodes to the events.

    A target that declares ``comments: false`` is sent the events without their comments.
    """
    if not capabilities.offers("comments"):
        events = [replace(event, comment=None) for event in events]
    fetched = await stream_events(stream_client, events)
    expect(fetched.status, 200, "status of the stream")
    expected = expected_observation(events)
    for name, chunks in (("as received", fetched.chunks), ("re-cut", cut(fetched.body, cuts))):
        seen = observe(fetched, chunks)
        expect(seen.events, expected.events, f"events dispatched, bytes fed {name}")
        expect(seen.retries, expected.retries, f"retry values accepted, bytes fed {name}")
        expect(seen.comments, expected.comments, f"comments seen, bytes fed {name}")
