"""Server-Sent Events: how a client reads the stream.

An event stream is UTF-8 text made of lines. Lines build up an event field by
field; a blank line dispatches it. This chapter states, rule by rule, how a
browser's `EventSource` turns bytes into events (WHATWG HTML 9.2.5 and 9.2.6):
it is what the next chapter holds SSE clients to, and what every server is judged
by in chapter 3, [what a server writes](#sse-encoding).

```
: a comment, ignored
event: add
id: 41
data: first line
data: second line

```

dispatches one event of type `add`, with the data `"first line\\nsecond line"`,
and remembers `41` as the last event id, which a reconnecting client sends
back in the `Last-Event-ID` header.

The checks of this chapter run against a *decoder*: by default the suite's
own (`spec.sse.Decoder`, the oracle that judges every server), or any client
library given with `--decoder=module:attr`. Each example is fed whole, one
byte at a time and cut at every position, because the network may deliver it
in any pieces.
"""

from __future__ import annotations

from collections.abc import Sequence

from spec.decoders import DecoderFactory
from spec.feeding import decode, splittings
from spec.rules import DECODER, MUST, Chapter, expect
from spec.sources import SSE_DISPATCH, SSE_INTERPRETING, SSE_PARSING
from spec.sse import Dispatched, MessageEvent, RetryChange

chapter = Chapter(__name__, subject=DECODER)


def message(data: str, type: str = "message", last_event_id: str = "") -> MessageEvent:
    return MessageEvent(type, data, last_event_id)


def events_only(items: Sequence[Dispatched]) -> list[Dispatched]:
    return [item for item in items if isinstance(item, MessageEvent)]


def assert_dispatches(
    make_decoder: DecoderFactory,
    stream: bytes,
    expected: Sequence[Dispatched],
    *,
    keep: tuple[type, ...] = (MessageEvent,),
) -> None:
    """The decoder dispatches *expected* from *stream*, however the stream is cut."""
    for name, chunks in splittings(stream):
        seen = [item for item in decode(make_decoder, chunks) if isinstance(item, keep)]
        expect(seen, list(expected), f"what {stream!r} dispatches, fed {name}")


# --- Decoding ----------------------------------------------------------------

UTF8 = chapter.rule(
    "SSE-PARSE-01",
    MUST,
    "The stream is decoded as UTF-8 whatever charset its Content-Type names, "
    "and each invalid byte sequence becomes U+FFFD without stopping the stream.",
    SSE_PARSING,
    why="A decoder that follows the label turns every non-ASCII character of a stream labelled "
    "`charset=iso-8859-1` into mojibake (`café` becomes `cafÃ©`), and one that decodes "
    "strictly, as Python's `bytes.decode()` does by default, ends the whole stream at its "
    "first invalid byte (httpx-sse 0.4.3 and sseclient-py 1.9.0 respectively, in the "
    "README's client matrix).",
)


@UTF8.check
def check_utf8_text(make_decoder: DecoderFactory) -> None:
    """Non-ASCII text, from two-byte letters to four-byte emoji, arrives intact."""
    text = "café 例子 ✓ 🎉"
    assert_dispatches(make_decoder, f"data: {text}\n\n".encode(), [message(text)])


@UTF8.check
def check_invalid_utf8_becomes_replacement_character(make_decoder: DecoderFactory) -> None:
    """A stray continuation byte and a truncated sequence each become one U+FFFD."""
    stream = b"data: a\xffb\n\ndata: c\xe4\xbd\n\n"
    assert_dispatches(make_decoder, stream, [message("a\ufffdb"), message("c\ufffd")])


BOM = chapter.rule(
    "SSE-PARSE-02",
    MUST,
    "One U+FEFF byte order mark at the very start of the stream is ignored; "
    "any other U+FEFF is text.",
    SSE_PARSING,
    why="A decoder that keeps the byte order mark reads the first line's field name as "
    "`\\ufeffdata`, a field it does not know, and the stream's first event is lost without "
    "an error (httpx-sse 0.4.3 and sseclient-py 1.9.0, in the client matrix).",
)


@BOM.check
def check_leading_bom_is_ignored(make_decoder: DecoderFactory) -> None:
    """``\\ufeffdata: x`` is a ``data`` field: the mark is not part of the field name."""
    assert_dispatches(make_decoder, b"\xef\xbb\xbfdata: x\n\n", [message("x")])


@BOM.check
def check_second_bom_is_text(make_decoder: DecoderFactory) -> None:
    """With two marks, the second starts the field name ``\\ufeffdata``, an unknown field."""
    stream = b"\xef\xbb\xbf\xef\xbb\xbfdata: lost\n\ndata: kept\n\n"
    assert_dispatches(make_decoder, stream, [message("kept")])


@BOM.check
def check_bom_later_in_stream_is_text(make_decoder: DecoderFactory) -> None:
    """A mark that is not the stream's first character stays in the data."""
    assert_dispatches(make_decoder, b"data: \xef\xbb\xbfx\n\n", [message("\ufeffx")])


# --- Lines -------------------------------------------------------------------

LINE_ENDS = chapter.rule(
    "SSE-PARSE-03",
    MUST,
    "A line ends at CRLF, at a lone LF or at a lone CR, and nowhere else; "
    "a CR completes its line as soon as it arrives.",
    SSE_PARSING,
    why="Python's `str.splitlines()` also splits at VT, FF, FS, GS, RS, U+0085, U+2028 and "
    "U+2029, so a decoder built on it cuts data that the server wrote as one line; and a "
    "decoder that holds a final CR back to see whether an LF follows keeps an event whose "
    "blank line is that CR until more bytes arrive: on a quiet stream, until the next "
    "keep-alive comment (SSE-CLIENT-04).",
)


@LINE_ENDS.check
def check_lf_cr_and_crlf_end_lines(make_decoder: DecoderFactory) -> None:
    """All three line ends, mixed in one stream, end lines and blank lines alike."""
    stream = b"data: a\rdata: b\ndata: c\r\n\r\ndata: d\r\rdata: e\n\n"
    assert_dispatches(make_decoder, stream, [message("a\nb\nc"), message("d"), message("e")])


@LINE_ENDS.check
def check_other_line_breaks_are_text(make_decoder: DecoderFactory) -> None:
    """U+2028, U+2029, U+0085, VT, FF and FS/GS/RS do not end a line (``str.splitlines`` would)."""
    text = "a\u2028b\u2029c\u0085d\x0be\x0cf\x1cg\x1dh\x1ei"
    assert_dispatches(make_decoder, f"data: {text}\n\n".encode(), [message(text)])


@LINE_ENDS.check
def check_cr_dispatches_without_waiting(make_decoder: DecoderFactory) -> None:
    """An event ended by CR CR is dispatched by the read that brings the second CR.

    A decoder that holds a CR back to see whether an LF follows delays the
    event until the server sends something more, which on a quiet stream may
    be never.
    """
    decoder = make_decoder()
    seen = events_only(decoder.feed(b"data: now\r\r"))
    expect(seen, [message("now")], "events dispatched by feeding b'data: now\\r\\r'")


@LINE_ENDS.check
def check_crlf_split_across_reads_is_one_line_end(make_decoder: DecoderFactory) -> None:
    """CR at the end of one read and LF at the start of the next make one line end, not two."""
    decoder = make_decoder()
    seen = [*decoder.feed(b"data: a\r"), *decoder.feed(b"\ndata: b\r"), *decoder.feed(b"\n\r\n")]
    expect(events_only(seen), [message("a\nb")], "events dispatched across the CR|LF cuts")


# --- Events ------------------------------------------------------------------

BLANK_LINE = chapter.rule(
    "SSE-PARSE-04",
    MUST,
    "A blank line dispatches the event the lines before it built, and nothing "
    "is dispatched before that blank line arrives.",
    SSE_INTERPRETING,
)


@BLANK_LINE.check
def check_each_blank_line_dispatches(make_decoder: DecoderFactory) -> None:
    """Three events, three blank lines, three dispatches in order."""
    stream = b"data: 1\n\ndata: 2\n\ndata: 3\n\n"
    assert_dispatches(make_decoder, stream, [message("1"), message("2"), message("3")])


@BLANK_LINE.check
def check_nothing_before_blank_line(make_decoder: DecoderFactory) -> None:
    """Field lines alone dispatch nothing; the blank line that follows dispatches them."""
    decoder = make_decoder()
    before = events_only(decoder.feed(b"data: a\ndata: b\n"))
    expect(before, [], "events dispatched before the blank line")
    after = events_only(decoder.feed(b"\n"))
    expect(after, [message("a\nb")], "events dispatched by the blank line")


COMMENTS = chapter.rule(
    "SSE-PARSE-05",
    MUST,
    "A line that starts with a colon is a comment and changes nothing.",
    SSE_INTERPRETING,
    why="Comments are how servers keep an idle stream alive (`: ping` every 15 seconds or so, "
    "CANCEL-KEEPALIVE-01): a decoder that treats one as a field or an event hands the "
    "application an event, or an error, at every keep-alive.",
)


@COMMENTS.check
def check_comment_lines_are_ignored(make_decoder: DecoderFactory) -> None:
    """Comments before, between and inside events leave the events as they are."""
    stream = b": hello\ndata: a\n:data: not a field\ndata: b\n:\n\n"
    assert_dispatches(make_decoder, stream, [message("a\nb")])


@COMMENTS.check
def check_comment_alone_dispatches_nothing(make_decoder: DecoderFactory) -> None:
    """A keep-alive comment followed by a blank line dispatches no event."""
    assert_dispatches(make_decoder, b": keep-alive\n\n: again\n\n", [])


FIELDS = chapter.rule(
    "SSE-PARSE-06",
    MUST,
    "A line is split at its first colon into field name and value, one leading "
    "space is removed from the value, and a line without a colon is a field "
    "name with an empty value.",
    SSE_INTERPRETING,
    why="A decoder that strips all whitespace (`value.strip()`) alters data that begins or ends "
    "with spaces, such as indented text or a token stream's leading spaces, and one that "
    "strips none leaves a space before every value; servers write exactly one space after "
    "the colon (SSE-ENC-05) because exactly one is removed.",
)


@FIELDS.check
def check_space_after_colon_is_optional(make_decoder: DecoderFactory) -> None:
    """``data:x`` and ``data: x`` carry the same value."""
    assert_dispatches(make_decoder, b"data:x\n\ndata: x\n\n", [message("x"), message("x")])


@FIELDS.check
def check_only_one_space_is_removed(make_decoder: DecoderFactory) -> None:
    """``data:  x`` (two spaces) carries `` x``; a leading tab is kept."""
    assert_dispatches(make_decoder, b"data:  x\n\ndata:\tx\n\n", [message(" x"), message("\tx")])


@FIELDS.check
def check_value_keeps_later_colons(make_decoder: DecoderFactory) -> None:
    """Only the first colon splits: ``data: a: b`` carries ``a: b``."""
    assert_dispatches(make_decoder, b"data: a: b:\n\n", [message("a: b:")])


@FIELDS.check
def check_line_without_colon_is_field_with_empty_value(make_decoder: DecoderFactory) -> None:
    """A bare ``data`` line adds an empty line of data; a bare ``event`` resets the type."""
    stream = b"data\n\nevent: x\nevent\ndata: y\n\n"
    assert_dispatches(make_decoder, stream, [message(""), message("y")])


UNKNOWN_FIELDS = chapter.rule(
    "SSE-PARSE-07",
    MUST,
    "Fields other than event, data, id and retry are ignored; field names are "
    "case-sensitive and match exactly.",
    SSE_INTERPRETING,
    why="A decoder more lenient than the algorithm hides a server's bug: a stream that writes "
    "`Data:` works with a decoder that accepts it and dispatches nothing in a browser's "
    "`EventSource`.",
)


@UNKNOWN_FIELDS.check
def check_unknown_and_miscased_fields_are_ignored(make_decoder: DecoderFactory) -> None:
    """``Data``, ``DATA``, ``data `` (a space before the colon) and ``foo`` are not ``data``."""
    stream = b"Data: 1\nDATA: 2\ndata : 3\nfoo: 4\ndata: yes\n\n"
    assert_dispatches(make_decoder, stream, [message("yes")])


@UNKNOWN_FIELDS.check
def check_unknown_field_alone_dispatches_nothing(make_decoder: DecoderFactory) -> None:
    """An event made only of unknown fields has no data and is not dispatched."""
    assert_dispatches(make_decoder, b"foo: bar\n\n", [])


DATA = chapter.rule(
    "SSE-PARSE-08",
    MUST,
    "Each data line appends its value and an LF to the data buffer, and "
    "dispatching removes one trailing LF, so the lines of an event are joined with LF.",
    SSE_DISPATCH,
)


@DATA.check
def check_data_lines_join_with_lf(make_decoder: DecoderFactory) -> None:
    """Two data lines give their values joined by one LF, whatever line ends carried them."""
    stream = b"data: a\r\ndata: b\n\n"
    assert_dispatches(make_decoder, stream, [message("a\nb")])


@DATA.check
def check_only_one_trailing_lf_is_removed(make_decoder: DecoderFactory) -> None:
    """An empty last data line survives as a trailing LF; two empty lines give one LF."""
    stream = b"data: a\ndata\n\ndata\ndata\n\n"
    assert_dispatches(make_decoder, stream, [message("a\n"), message("\n")])


EMPTY_DATA = chapter.rule(
    "SSE-PARSE-09",
    MUST,
    "A blank line with an empty data buffer dispatches nothing and clears the event type.",
    SSE_DISPATCH,
    why="A decoder that dispatches at every blank line hands the application empty events, "
    "carrying a stale type, after an event made only of an `id:` or a `retry:` line "
    "(httpx-sse 0.4.3, in the client matrix).",
)


@EMPTY_DATA.check
def check_event_without_data_is_not_dispatched(make_decoder: DecoderFactory) -> None:
    """``event: x`` and a blank line dispatch nothing, and ``x`` does not reach the next event."""
    stream = b"event: x\n\ndata: y\n\n"
    assert_dispatches(make_decoder, stream, [message("y")])


@EMPTY_DATA.check
def check_empty_data_line_is_not_empty_buffer(make_decoder: DecoderFactory) -> None:
    """``data:`` with an empty value fills the buffer with an LF: an event with empty data."""
    assert_dispatches(make_decoder, b"data:\n\n", [message("")])


EVENT_TYPE = chapter.rule(
    "SSE-PARSE-10",
    MUST,
    "An event's type is the value of its last event field, message when it had "
    "none or an empty one, and it does not carry over to the next event.",
    SSE_DISPATCH,
    why="A decoder that keeps the last type delivers every later untyped event to the wrong "
    "listener: after one `event: done`, the messages that follow reach the `done` handler "
    "instead of `onmessage`.",
)


@EVENT_TYPE.check
def check_type_defaults_to_message_and_does_not_carry_over(make_decoder: DecoderFactory) -> None:
    """``event: add`` names one event; the next one is a ``message`` again."""
    stream = b"event: add\ndata: 1\n\ndata: 2\n\n"
    assert_dispatches(make_decoder, stream, [message("1", "add"), message("2")])


@EVENT_TYPE.check
def check_last_event_field_wins_and_empty_means_message(make_decoder: DecoderFactory) -> None:
    """Of two event fields the last counts; an empty one gives ``message``."""
    stream = b"event: a\nevent: b\ndata: 1\n\nevent:\ndata: 2\n\n"
    assert_dispatches(make_decoder, stream, [message("1", "b"), message("2")])


ID_NUL = chapter.rule(
    "SSE-PARSE-11",
    MUST,
    "An id field whose value contains U+0000 NULL is ignored.",
    SSE_INTERPRETING,
    why="A header value cannot carry NUL (RFC 9110 §5.5), so an id with NUL could never be sent "
    "back in `Last-Event-ID`: a decoder that takes it resumes from an id the server never "
    "receives.",
)


@ID_NUL.check
def check_id_with_nul_is_ignored(make_decoder: DecoderFactory) -> None:
    """After ``id: 1``, an ``id: 2\\0 3`` leaves the last event id at ``1``."""
    stream = b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n"
    expected = [message("a", last_event_id="1"), message("b", last_event_id="1")]
    assert_dispatches(make_decoder, stream, expected)


LAST_EVENT_ID = chapter.rule(
    "SSE-PARSE-12",
    MUST,
    "The last event id takes an id field's value when the event is dispatched, "
    "persists through later events without an id, and an empty id resets it.",
    SSE_DISPATCH,
    why="The last event id is what a reconnection sends back. A decoder that reports each "
    "event's own `id:` field instead (sseclient-py 1.9.0's `Event.id`) gives an application "
    "that resumes by it no id after an event without one, so its reconnection starts the "
    "stream over.",
)


@LAST_EVENT_ID.check
def check_last_event_id_persists_and_empty_id_resets(make_decoder: DecoderFactory) -> None:
    """Events without an id keep the previous one; ``id`` with no value resets it to empty."""
    stream = b"id: 7\ndata: a\n\ndata: b\n\nid\ndata: c\n\ndata: d\n\n"
    expected = [
        message("a", last_event_id="7"),
        message("b", last_event_id="7"),
        message("c"),
        message("d"),
    ]
    assert_dispatches(make_decoder, stream, expected)


@LAST_EVENT_ID.check
def check_id_is_taken_at_dispatch_even_without_data(make_decoder: DecoderFactory) -> None:
    """``id: 5`` and a blank line dispatch nothing, yet set the id a reconnect sends."""
    decoder = make_decoder()
    decoder.feed(b"id: 5\n\n")
    expect(decoder.last_event_id, "5", "last event id after b'id: 5\\n\\n'")


@LAST_EVENT_ID.check
def check_id_of_an_undispatched_event_is_not_taken(make_decoder: DecoderFactory) -> None:
    """An id read but never followed by a blank line does not become the last event id."""
    decoder = make_decoder()
    decoder.feed(b"id: 1\ndata: a\n\nid: 2\ndata: b\n")
    decoder.close()
    expect(decoder.last_event_id, "1", "last event id after a stream cut inside event 2")


RETRY = chapter.rule(
    "SSE-PARSE-13",
    MUST,
    "A retry field sets the reconnection time, in milliseconds, only when its "
    "value is one or more ASCII digits; any other value is ignored.",
    SSE_INTERPRETING,
    why="A decoder that parses `retry` with `int()` accepts `-5`, ` 10` and other scripts' "
    "digits (`١٢` as 12), all of which a browser ignores, so a server tested against it "
    "sets reconnection times that browsers never take (httpx-sse 0.4.3, in the client "
    "matrix).",
)


@RETRY.check
def check_retry_with_digits_is_accepted(make_decoder: DecoderFactory) -> None:
    """``retry: 0`` and ``retry: 2500`` set the reconnection time."""
    stream = b"retry: 0\nretry: 2500\ndata: x\n\n"
    expected: list[Dispatched] = [RetryChange(0), RetryChange(2500), message("x")]
    assert_dispatches(make_decoder, stream, expected, keep=(MessageEvent, RetryChange))


@RETRY.check
def check_retry_without_only_digits_is_ignored(make_decoder: DecoderFactory) -> None:
    """Empty, signed, decimal, spaced and non-ASCII-digit values are all ignored."""
    values = ["", "-1", "+1", "1.5", " 10", "10 ", "1e3", "\u0661\u0662", "\uff11"]
    stream = "".join(f"retry:{' ' + v if v else ''}\n" for v in values).encode() + b"data: x\n\n"
    assert_dispatches(make_decoder, stream, [message("x")], keep=(MessageEvent, RetryChange))


END_OF_STREAM = chapter.rule(
    "SSE-PARSE-14",
    MUST,
    "When the stream ends, an event that has not been completed by a blank line is discarded.",
    SSE_INTERPRETING,
    why="A stream cut off mid-event (a dropped connection, a server that crashed) ends with a "
    "partial event; a decoder that dispatches it hands the application half a multi-line "
    "payload, or a truncated JSON text, as if it were whole (sseclient-py 1.9.0, in the "
    "client matrix).",
)


@END_OF_STREAM.check
def check_incomplete_event_is_discarded(make_decoder: DecoderFactory) -> None:
    """The event whose blank line never came is not dispatched, with or without its last LF."""
    assert_dispatches(make_decoder, b"data: a\n\ndata: b\n", [message("a")])
    assert_dispatches(make_decoder, b"data: a\n\ndata: b", [message("a")])
