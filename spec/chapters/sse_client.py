"""Server-Sent Events: conformance of clients.

The parsing chapter states how bytes become events and checks a decoder fed
in-process. This chapter checks whole clients, over the wire, with clients
nobody here wrote: an `EventSource` in a browser, a Python library, anything
that reads a URL. The suite becomes the server. It replays each case below
from a replay server on 127.0.0.1, byte for byte, cut into the HTTP chunks the
case shows, and compares what the client dispatched with what the WHATWG
algorithm says it must.

A client is reached through an *adapter*: a command, in any language, that
reads the URL it is given with the client and prints one JSON line per event
it dispatched (`{"event": {"type": …, "data": …, "lastEventId": …}}`), per
retry value it accepted, and how the stream ended (`{"end": …}` or
`{"failed": …}`); `spec/clients/protocol.py` is its whole contract.

```
pytest spec --rules='SSE-CLIENT-*' --client-command='node my-adapter.js {url}'
```

Without `--client-command`, the suite's own client (`spec/clients/oracle.py`,
the oracle decoder behind httpx) is checked. `peers/clients/` holds the
adapters of httpx-sse, sseclient-py and Chromium's `EventSource`, and, in
JavaScript on Node, of the npm packages `eventsource` and
`@microsoft/fetch-event-source` (`peers/clients/js/`); `tox -e clients`
publishes their matrix.

In the cases, `⏸ n` marks a pause: the server sends nothing more until the
client has dispatched `n` events in all. The bytes before a pause are then all
the client can have read, so a pause splits a line end or a character
between two reads for certain, and shows whether an event is dispatched as
soon as its blank line arrives. A pause waits at most three seconds for an
event that may never come; it decides nothing by time.

## Between connections

An `EventSource` outlives its responses. When one ends, cleanly or because
the connection dropped, the client *reestablishes the connection*: it waits
the reconnection time (the last `retry`, else a few seconds of its own
choosing), asks again, and sends `Last-Event-ID` with its last event ID
string, so that the server can resume after it. A 204 No Content, a status
other than 200 or a Content-Type other than `text/event-stream` *fails the
connection* instead, for good. Rules SSE-CLIENT-14 to 17 check that.

They are judged on the replay server's own log, never on what the adapter
says: in a reconnection case the server answers the client's later requests
with the case's next responses, and past them with 204; it notes when each
request came, with what `Last-Event-ID`, and when each response ended. The
suite stops the client once the log is complete: when it comes back after
being told to stop, or has not come back within the reconnection time plus
a band of five seconds (load-aware, stretched while the machine is busy).
The reconnection time is a lower bound only: WHATWG lets a client "wait some
more" (a backoff, or until the network is back), so a later reconnection is
no failure, and the band is only how long the suite waits before it takes
it that the client will not come back; no client here adds anything to a
first reconnection. An early one is a failure, with 50 ms allowed for the
server noting a response's end just after it wrote it and timers that
round to the millisecond.

An adapter says that its client reconnects by declaring `reconnect`
(`spec/clients/protocol.py`); only then, and only in these cases
(`reconnect=1` in the URL), does it let the client reconnect. A client that
reads one response and stops, as httpx-sse and sseclient-py do (reconnecting
is their caller's business), declares nothing, and these rules are *not
applicable* to it.

## What a browser's `EventSource` can and cannot do

* It only sends GET, with no body and no header of the page's choosing:
  credentials go by cookie (cross-origin only with `withCredentials: true`,
  which the server must answer with `Access-Control-Allow-Credentials: true`
  and its exact origin, never `*`), or in the query string, where logs and
  proxies keep them. Clients that read the stream with `fetch` can send
  headers and POST; chat APIs stream that way, and the browser's
  `EventSource` cannot read them.
* Over HTTP/1.1 a browser opens about six connections per origin, and each
  open `EventSource` holds one for as long as it lives: a seventh tab's
  requests to that origin wait for one to close. Over HTTP/2 every stream
  shares one connection, up to the server's
  `SETTINGS_MAX_CONCURRENT_STREAMS` (commonly 100 or more).
* It reconnects by itself when a response ends or the connection drops,
  after the reconnection time (`retry:`, else a few seconds the browser
  chooses), and sends `Last-Event-ID` with the last id it received. A 204, a
  status other than 200 or a Content-Type other than `text/event-stream`
  stops it for good.
* The id it resumes from is whatever the server last wrote. When the
  reconnection lands on another worker or host behind a load balancer, that
  process must know the events after that id: a buffer in each process
  cannot (it sends a gap, or starts over), a log they share (Redis Streams, a
  database table) can. The resume rules of the cancellation chapter judge one
  process.
"""

from __future__ import annotations

from spec.clients.cases import Case, Hold, Reconnection, Reply, case, replays
from spec.clients.runner import ClientUnderTest, Transcript
from spec.rules import (
    CLIENT,
    MUST,
    Chapter,
    expect,
    not_applicable,
    not_observable,
    violation,
)
from spec.sources import (
    SSE_EVENTSOURCE,
    SSE_INTERPRETING,
    SSE_LAST_EVENT_ID,
    SSE_PARSING,
    SSE_PROCESSING,
    SSE_REESTABLISH,
)
from spec.sse import MessageEvent

chapter = Chapter(__name__, subject=CLIENT)


def message(data: str, type: str = "message", last_event_id: str = "") -> MessageEvent:
    return MessageEvent(type, data, last_event_id)


async def replay(sse_client: ClientUnderTest, replayed: Case) -> Transcript:
    """Replay *replayed* to the client and return what it did.

    A client that hangs, stops without saying how the stream ended (it
    crashed), or whose adapter prints a line outside the protocol, violates
    the rule at hand whatever it dispatched: the message carries the adapter's
    stderr, where a crash leaves its traceback.
    """
    transcript = await sse_client.run(replayed)
    stopped = transcript.failed is None and transcript.ended is None
    if transcript.hung or stopped or transcript.protocol_errors:
        violation(
            f"the client's run of case {replayed.name!r}",
            "the stream read to its end, or the connection failed",
            transcript.describe(),
        )
    return transcript


async def expect_events(sse_client: ClientUnderTest, replayed: Case) -> Transcript:
    """The client accepts the stream and dispatches exactly the case's events, in order."""
    transcript = await replay(sse_client, replayed)
    if transcript.failed is not None:
        violation(
            f"what the client did with the valid stream {replayed.body!r}",
            "the stream accepted",
            transcript.describe(),
        )
    expect(
        transcript.events,
        list(replayed.expected),
        f"the events {transcript.client or 'the client'} dispatched from {replayed.body!r}",
    )
    return transcript


async def expect_failure(sse_client: ClientUnderTest, replayed: Case) -> None:
    """The client fails the connection and dispatches nothing."""
    transcript = await replay(sse_client, replayed)
    what = f"a {replayed.status} response with Content-Type {replayed.content_type!r}"
    expect(transcript.events, [], f"the events dispatched from {what}")
    if transcript.failed is None:
        violation(
            f"what the client did with {what}", "the connection failed", transcript.describe()
        )


# --- Decoding ----------------------------------------------------------------

UTF8 = chapter.rule(
    "SSE-CLIENT-01",
    MUST,
    "A client decodes the stream as UTF-8, whatever charset the Content-Type names and "
    "wherever a read splits a character; an invalid byte sequence becomes U+FFFD.",
    SSE_PARSING,
    why="The network cuts a stream wherever it likes, inside a character too: a client that "
    "decodes each read on its own turns a character split between two reads into "
    "replacement characters. For what a client that follows the label or decodes strictly "
    "does, see SSE-PARSE-01.",
)

TEXT = case(
    "utf8",
    b"data: caf\xc3\xa9 \xe4\xbe\x8b \xf0\x9f\x8e\x89\n\ndata: a\xffb\n\n",
    expected=[message("café 例 🎉"), message("a\ufffdb")],
)

LATIN1_LABEL = case(
    "charset-label",
    b"data: caf\xc3\xa9\n\n",
    content_type="text/event-stream; charset=iso-8859-1",
    expected=[message("café")],
)

SPLIT_CHARACTER = case(
    "split-character",
    b"data: a\n\ndata: caf\xc3",
    Hold(1),
    b"\xa9\n\n",
    expected=[message("a"), message("café")],
)


@UTF8.check
@replays(TEXT)
async def check_utf8_and_replacement(sse_client: ClientUnderTest) -> None:
    """Two-, three- and four-byte characters arrive intact; a stray 0xFF becomes U+FFFD."""
    await expect_events(sse_client, TEXT)


@UTF8.check
@replays(LATIN1_LABEL)
async def check_charset_parameter_is_ignored(sse_client: ClientUnderTest) -> None:
    """``charset=iso-8859-1`` does not make ``café`` into ``cafÃ©``, nor fail the stream.

    A server may send no charset but ``utf-8`` (the parameter "serves no purpose",
    says the ``text/event-stream`` registration), yet a stream is always decoded
    as UTF-8; web-platform-tests' ``eventsource/format-utf-8`` checks the same.
    """
    await expect_events(sse_client, LATIN1_LABEL)


@UTF8.check
@replays(SPLIT_CHARACTER)
async def check_character_split_between_reads(sse_client: ClientUnderTest) -> None:
    """``é`` cut after its first byte (``⏸ 1``) is one character, not two U+FFFD."""
    await expect_events(sse_client, SPLIT_CHARACTER)


BOM = chapter.rule(
    "SSE-CLIENT-02",
    MUST,
    "A client ignores one U+FEFF byte order mark at the start of the stream; "
    "a second one is text, part of the first field name.",
    SSE_PARSING,
)

ONE_BOM = case("bom", b"\xef\xbb\xbfdata: a\n\n", expected=[message("a")])
TWO_BOMS = case(
    "two-boms",
    b"\xef\xbb\xbf\xef\xbb\xbfdata: lost\n\ndata: kept\n\n",
    expected=[message("kept")],
)


@BOM.check
@replays(ONE_BOM)
async def check_leading_bom_is_ignored(sse_client: ClientUnderTest) -> None:
    """``\\ufeffdata: a`` dispatches ``a``: the mark is not part of the field name."""
    await expect_events(sse_client, ONE_BOM)


@BOM.check
@replays(TWO_BOMS)
async def check_second_bom_is_text(sse_client: ClientUnderTest) -> None:
    """After two marks the first field is ``\\ufeffdata``, unknown, so ``lost`` is never data."""
    await expect_events(sse_client, TWO_BOMS)


# --- Lines -------------------------------------------------------------------

LINE_ENDS = chapter.rule(
    "SSE-CLIENT-03",
    MUST,
    "A client ends a line at CRLF, LF or CR, and nowhere else, "
    "also when a read ends between the CR and the LF.",
    SSE_PARSING,
    why="A client that ends a line at a read's final CR, and then takes the next read's first "
    "LF for another line end, sees a blank line that was never sent and dispatches early: "
    "`data: b\\r` then `\\ndata: c\\r\\n\\r\\n` become two events, `b` and `c`, instead of one, "
    "`b\\nc`.",
)

CR_LINES = case(
    "cr-line-ends",
    b"data: a\rdata: b\r\rdata: c\r\n\r\ndata: d\n\n",
    expected=[message("a\nb"), message("c"), message("d")],
)
SPLIT_CRLF = case(
    "split-crlf",
    b"data: a\n\ndata: b\r",
    Hold(1),
    b"\ndata: c\r\n\r\n",
    expected=[message("a"), message("b\nc")],
)
NOT_LINE_ENDS = case(
    "other-breaks",
    "data: a\u2028b\u2029c\u0085d\x0be\x0cf\x1cg\n\n".encode(),
    expected=[message("a\u2028b\u2029c\u0085d\x0be\x0cf\x1cg")],
)


@LINE_ENDS.check
@replays(CR_LINES)
async def check_cr_only_line_ends(sse_client: ClientUnderTest) -> None:
    """Lone CRs end lines and, doubled, events, as LF and CRLF do."""
    await expect_events(sse_client, CR_LINES)


@LINE_ENDS.check
@replays(SPLIT_CRLF)
async def check_crlf_split_between_reads(sse_client: ClientUnderTest) -> None:
    """A CR at the end of one read and its LF at the start of the next are one line end.

    Counted twice, the LF would be a blank line: ``b`` and ``c`` as two events.
    """
    await expect_events(sse_client, SPLIT_CRLF)


@LINE_ENDS.check
@replays(NOT_LINE_ENDS)
async def check_other_breaks_are_text(sse_client: ClientUnderTest) -> None:
    """U+2028, U+2029, U+0085, VT, FF and FS stay in the data (``str.splitlines`` would split)."""
    await expect_events(sse_client, NOT_LINE_ENDS)


PROMPT = chapter.rule(
    "SSE-CLIENT-04",
    MUST,
    "A client dispatches an event as soon as its blank line has arrived, "
    "without waiting for more bytes, also when that blank line is a CR ending a read.",
    SSE_INTERPRETING,
    why="A client that waits for more bytes before dispatching holds the last event of a burst "
    "until the server writes again, seconds later on a quiet stream: httpx-sse 0.4.3 keeps "
    "a read's final CR for the next read, so the event that `data: a\\r\\r` ends was held for "
    "the case's whole pause (the README's client matrix).",
)

EVENT_THEN_PAUSE = case(
    "event-then-pause",
    b"data: a\n\n",
    Hold(1),
    b"data: b\n\n",
    expected=[message("a"), message("b")],
)
TRAILING_CR = case(
    "trailing-cr",
    b"data: a\r\r",
    Hold(1),
    b"data: b\r\r",
    expected=[message("a"), message("b")],
)


async def expect_dispatched_before_more_bytes(sse_client: ClientUnderTest, replayed: Case) -> None:
    transcript = await expect_events(sse_client, replayed)
    expect(
        transcript.in_time,
        [True],
        f"whether {transcript.client or 'the client'} dispatched the first event of "
        f"{replayed.body!r} before the server sent more bytes",
    )


@PROMPT.check
@replays(EVENT_THEN_PAUSE)
async def check_event_dispatched_while_the_stream_pauses(sse_client: ClientUnderTest) -> None:
    """``data: a`` and a blank line, then nothing: ``a`` is dispatched now, not later."""
    await expect_dispatched_before_more_bytes(sse_client, EVENT_THEN_PAUSE)


@PROMPT.check
@replays(TRAILING_CR)
async def check_trailing_cr_dispatches_at_once(sse_client: ClientUnderTest) -> None:
    """A read that ends in the CR of a blank line dispatches: a later LF would change nothing."""
    await expect_dispatched_before_more_bytes(sse_client, TRAILING_CR)


IGNORED = chapter.rule(
    "SSE-CLIENT-05",
    MUST,
    "A client ignores comment lines and fields it does not know, "
    "field names being case-sensitive and ending at the first colon.",
    SSE_INTERPRETING,
)

COMMENTS = case(
    "comments",
    b": hello\n:\ndata: a\n: between\n:data: not data\ndata: b\n\n",
    expected=[message("a\nb")],
)
UNKNOWN_FIELDS = case(
    "unknown-fields",
    b"foo: 1\nDATA: upper\ndata : spaced\nbar\ndata: a\n\n",
    expected=[message("a")],
)


@IGNORED.check
@replays(COMMENTS)
async def check_comments_are_ignored(sse_client: ClientUnderTest) -> None:
    """Comments before and inside an event leave its data alone, ``:data: not data`` too."""
    await expect_events(sse_client, COMMENTS)


@IGNORED.check
@replays(UNKNOWN_FIELDS)
async def check_unknown_fields_are_ignored(sse_client: ClientUnderTest) -> None:
    """``foo``, ``DATA``, ``data `` (with a space) and a bare ``bar`` are unknown fields."""
    await expect_events(sse_client, UNKNOWN_FIELDS)


# --- Events ------------------------------------------------------------------

TYPES = chapter.rule(
    "SSE-CLIENT-06",
    MUST,
    "A client gives an event the type its event field names, and `message` when the field "
    "is absent or empty; the type does not carry over to the next event.",
    SSE_INTERPRETING,
)

EVENT_TYPES = case(
    "event-types",
    b"event: other\nevent: add\ndata: a\n\ndata: b\n\nevent:\ndata: c\n\n",
    expected=[message("a", "add"), message("b"), message("c")],
)


@TYPES.check
@replays(EVENT_TYPES)
async def check_event_types(sse_client: ClientUnderTest) -> None:
    """``add`` (the last event field wins), then no field and an empty field: ``message``."""
    await expect_events(sse_client, EVENT_TYPES)


DATA = chapter.rule(
    "SSE-CLIENT-07",
    MUST,
    "A client joins an event's data lines with LF, drops one space after the colon and no "
    "more, and takes a data field without a colon as an empty line.",
    SSE_INTERPRETING,
)

DATA_LINES = case(
    "data-lines",
    b"data: a\ndata\ndata:  b\ndata:c\ndata: x:y\ndata\n\n",
    expected=[message("a\n\n b\nc\nx:y\n")],
)


@DATA.check
@replays(DATA_LINES)
async def check_data_lines(sse_client: ClientUnderTest) -> None:
    """``a``, an empty line, `` b`` (one of two spaces kept), ``c`` (no space), ``x:y``
    (the field ends at the first colon) and an empty line: only the very last LF is dropped."""
    await expect_events(sse_client, DATA_LINES)


NO_DATA = chapter.rule(
    "SSE-CLIENT-08",
    MUST,
    "A client dispatches nothing for a blank line that ends an event without data, "
    "and forgets that event's type.",
    SSE_INTERPRETING,
)

WITHOUT_DATA = case(
    "without-data",
    b"event: add\n\nid: 1\n\n\n\nretry: 1000\n\ndata: x\n\n",
    expected=[message("x", last_event_id="1")],
)


@NO_DATA.check
@replays(WITHOUT_DATA)
async def check_blank_lines_without_data(sse_client: ClientUnderTest) -> None:
    """A type alone, an id alone, extra blank lines and a retry alone dispatch nothing."""
    await expect_events(sse_client, WITHOUT_DATA)


IDS = chapter.rule(
    "SSE-CLIENT-09",
    MUST,
    "A client keeps the last event id across events until an id field changes it; "
    "an empty id field resets it, and an id containing NUL is ignored.",
    SSE_INTERPRETING,
)

ID_CARRIES = case(
    "id-carries-over",
    b"id: 7\ndata: a\n\ndata: b\n\n",
    expected=[message("a", last_event_id="7"), message("b", last_event_id="7")],
)
ID_RESET = case(
    "empty-id",
    b"id: 7\ndata: a\n\nid\ndata: b\n\nid: 8\ndata: c\n\nid:\ndata: d\n\n",
    expected=[
        message("a", last_event_id="7"),
        message("b"),
        message("c", last_event_id="8"),
        message("d"),
    ],
)
ID_NUL = case(
    "id-with-nul",
    b"id: 7\ndata: a\n\nid: 8\x009\ndata: b\n\n",
    expected=[message("a", last_event_id="7"), message("b", last_event_id="7")],
)


@IDS.check
@replays(ID_CARRIES)
async def check_id_carries_over(sse_client: ClientUnderTest) -> None:
    """An event without an id field has the id of the one before."""
    await expect_events(sse_client, ID_CARRIES)


@IDS.check
@replays(ID_RESET)
async def check_empty_id_resets(sse_client: ClientUnderTest) -> None:
    """``id`` and ``id:`` with no value set the last event id to the empty string."""
    await expect_events(sse_client, ID_RESET)


@IDS.check
@replays(ID_NUL)
async def check_id_with_nul_is_ignored(sse_client: ClientUnderTest) -> None:
    """``id: 8\\x009`` is not taken: the last event id stays ``7``."""
    await expect_events(sse_client, ID_NUL)


RETRY = chapter.rule(
    "SSE-CLIENT-10",
    MUST,
    "A client accepts a retry field only when its value is ASCII digits; "
    "signs, spaces, decimals and other digits leave the reconnection time unchanged.",
    SSE_INTERPRETING,
)

RETRY_DIGITS = case(
    "retry-digits",
    b"retry: 2500\ndata: a\n\nretry: 0\ndata: b\n\n",
    expected=[message("a"), message("b")],
    retries=[2500, 0],
)
NOT_DIGITS = ["-5", "+5", " 10", "10 ", "1.5", "1e3", "\u0661\u0662", "\uff11", ""]
"""Retry values that are not ASCII digits: signed, spaced, decimal, other digits, empty."""

RETRY_BOGUS = case(
    "retry-bogus",
    "".join(
        f"retry:{' ' + value if value else ''}\ndata: {number}\n\n"
        for number, value in enumerate(NOT_DIGITS)
    ).encode(),
    expected=[message(str(n)) for n in range(len(NOT_DIGITS))],
)


async def expect_retries(sse_client: ClientUnderTest, replayed: Case) -> None:
    transcript = await expect_events(sse_client, replayed)
    if "retry" not in transcript.observes:
        not_observable(f"{transcript.client or 'the client'} does not show the retry values")
    expect(
        transcript.retries,
        list(replayed.retries),
        f"the retry values {transcript.client or 'the client'} accepted from {replayed.body!r}",
    )


@RETRY.check
@replays(RETRY_DIGITS)
async def check_retry_digits_are_accepted(sse_client: ClientUnderTest) -> None:
    """``retry: 2500`` sets the reconnection time to 2.5 s, and ``retry: 0`` to nothing at all."""
    await expect_retries(sse_client, RETRY_DIGITS)


@RETRY.check
@replays(RETRY_BOGUS)
async def check_retry_that_is_not_ascii_digits_is_ignored(sse_client: ClientUnderTest) -> None:
    """Each of :data:`NOT_DIGITS`, in an event of its own, is ignored."""
    await expect_retries(sse_client, RETRY_BOGUS)


END = chapter.rule(
    "SSE-CLIENT-11",
    MUST,
    "A client discards an event that the stream's end leaves without its blank line.",
    SSE_INTERPRETING,
)

CUT_AFTER_LINE = case("incomplete-final-event", b"data: a\n\ndata: b\n", expected=[message("a")])
CUT_IN_LINE = case("cut-final-line", b"data: a\n\ndata: b", expected=[message("a")])


@END.check
@replays(CUT_AFTER_LINE)
async def check_incomplete_final_event_is_discarded(sse_client: ClientUnderTest) -> None:
    """``data: b`` and its LF, then the end: ``b`` is never dispatched."""
    await expect_events(sse_client, CUT_AFTER_LINE)


@END.check
@replays(CUT_IN_LINE)
async def check_cut_final_line_is_discarded(sse_client: ClientUnderTest) -> None:
    """``data: b`` without even its LF, then the end: ``b`` is never dispatched."""
    await expect_events(sse_client, CUT_IN_LINE)


# --- The response ------------------------------------------------------------

CONTENT_TYPE = chapter.rule(
    "SSE-CLIENT-12",
    MUST,
    "A client fails the connection, dispatching nothing, when the Content-Type is not "
    "`text/event-stream` (compared without case or parameters).",
    SSE_EVENTSOURCE,
    why="A proxy's error page, a login page or a JSON error arrives with its own Content-Type: "
    "a client that reads any body as an event stream takes it for lines of unknown fields, "
    "dispatching nothing and reporting nothing, where an `EventSource` fails the connection "
    "and says so. Media types compare without case (RFC 9110 §8.3.1), so one that refuses "
    "`Text/Event-Stream` refuses a valid stream (httpx-sse 0.4.3).",
)

PLAIN_TEXT = case(
    "text-plain", b"data: a\n\n", content_type="text/plain; charset=utf-8", fails=True
)
NO_CONTENT_TYPE = case("no-content-type", b"data: a\n\n", content_type=None, fails=True)
MIXED_CASE = case(
    "mixed-case-type",
    b"data: a\n\n",
    content_type="Text/Event-Stream;charset=UTF-8",
    expected=[message("a")],
)


@CONTENT_TYPE.check
@replays(PLAIN_TEXT)
async def check_text_plain_fails(sse_client: ClientUnderTest) -> None:
    """A well-formed event in a ``text/plain`` response is not an event."""
    await expect_failure(sse_client, PLAIN_TEXT)


@CONTENT_TYPE.check
@replays(NO_CONTENT_TYPE)
async def check_missing_content_type_fails(sse_client: ClientUnderTest) -> None:
    """No Content-Type at all is not ``text/event-stream``."""
    await expect_failure(sse_client, NO_CONTENT_TYPE)


@CONTENT_TYPE.check
@replays(MIXED_CASE)
async def check_content_type_case_and_parameters(sse_client: ClientUnderTest) -> None:
    """``Text/Event-Stream;charset=UTF-8`` is ``text/event-stream``."""
    await expect_events(sse_client, MIXED_CASE)


STATUS = chapter.rule(
    "SSE-CLIENT-13",
    MUST,
    "A client fails the connection, dispatching nothing, when the status is not 200, "
    "even if the body is a well-formed event stream.",
    SSE_EVENTSOURCE,
    why="A client that ignores the status dispatches the events of a 500 whose body happens to "
    "be an event stream, as if the stream were live (httpx-sse 0.4.3 and sseclient-py "
    "1.9.0, in the client matrix). An `EventSource` fails the connection on any status but "
    "200, and does not reconnect: that is how a server stops it (HDR-SSE-07).",
)

SERVER_ERROR = case("status-500", b"data: a\n\n", status=500, fails=True)
NO_CONTENT = case("status-204", status=204, content_type=None, fails=True)


@STATUS.check
@replays(SERVER_ERROR)
async def check_server_error_fails(sse_client: ClientUnderTest) -> None:
    """A 500 whose body is ``data: a`` and a blank line dispatches nothing."""
    await expect_failure(sse_client, SERVER_ERROR)


@STATUS.check
@replays(NO_CONTENT)
async def check_no_content_fails(sse_client: ClientUnderTest) -> None:
    """204 No Content is how a server tells an ``EventSource`` to stop reconnecting."""
    await expect_failure(sse_client, NO_CONTENT)


# --- Between connections -----------------------------------------------------
#
# A reconnection case lets the client reconnect as it would (``reconnect=1``
# in the URL), and the checks judge the replay server's request log: how many
# requests came, when each came after the response before it ended, and the
# Last-Event-ID each carried. No check times the client with a clock of its own.

EARLY_SLACK = 0.05
"""Seconds a reconnection may seem early by: the server notes a response's end just
after writing it, and timers round to the millisecond; a client's wait starts only
once it has read the end, so a correct one is never early by more than that."""


async def reconnection(sse_client: ClientUnderTest, replayed: Case) -> Transcript:
    """Replay a reconnection case to a client that reconnects; return what the server saw.

    A client whose adapter does not declare ``reconnect`` (one request a
    stream) is not judged: the rule is not applicable to it. One that hangs,
    or whose adapter prints a line outside the protocol, violates the rule.
    """
    transcript = await sse_client.run(replayed)
    if transcript.client and "reconnect" not in transcript.observes:
        not_applicable(f"{transcript.client} does not reconnect (its adapter says so)")
    if transcript.hung or transcript.protocol_errors:
        violation(
            f"the client's run of case {replayed.name!r}",
            "a run that ends, or that the suite stops once the request log is complete",
            transcript.describe(),
        )
    return transcript


def expect_requests(transcript: Transcript, count: int, what: str, *, more: bool = False) -> None:
    """Exactly *count* requests came (at least, with *more*: what the client did after them
    is another rule's business); the message shows the server's log."""
    seen = len(transcript.requests)
    if seen < count or (seen > count and not more):
        counted = f"{count} request{'s' if count > 1 else ''}"
        violation(what, f"at least {counted}" if more else counted, transcript.describe())


RECONNECTS = chapter.rule(
    "SSE-CLIENT-14",
    MUST,
    "When the server ends a response, a client reconnects, each time, waiting at least the "
    "reconnection time the stream set with `retry` before it asks again.",
    SSE_REESTABLISH,
)

AFTER_END = case(
    "reconnect-after-end",
    b"retry: 1000\ndata: a\n\n",
    expected=[message("a")],
    then=[Reply((b"data: b\n\n",))],
    reconnections=[Reconnection(1000), Reconnection(1000)],
)


@RECONNECTS.check
@replays(AFTER_END)
async def check_reconnects_after_the_retry_time(sse_client: ClientUnderTest) -> None:
    """Two responses that end cleanly are each followed by a request, none sooner than 1 s.

    The 1 s is a lower bound: the specification lets a client wait longer
    ("optionally, wait some more", for a backoff), so the suite waits for each
    reconnection for the reconnection time and a band of five seconds above
    it (load-aware), and only a client that has not come back by then fails.
    """
    transcript = await reconnection(sse_client, AFTER_END)
    plan = AFTER_END.reconnections or ()
    expect_requests(
        transcript, 1 + len(plan), "the requests after two responses that ended cleanly", more=True
    )
    for number, request in enumerate(plan, 2):
        waited = transcript.waited(number)
        if waited is None or waited < request.after_ms / 1000 - EARLY_SLACK:
            violation(
                f"how long {transcript.client or 'the client'} waited before request {number}",
                f"at least the reconnection time, {request.after_ms} ms",
                transcript.describe(),
            )


RESUMES = chapter.rule(
    "SSE-CLIENT-15",
    MUST,
    "A client that reconnects sends `Last-Event-ID` with its last event ID string: the id of "
    "the last event dispatched that had one, kept across events without one and across "
    "connections, not sent once an empty `id` field reset it, and never from an event that the "
    "response's end cut off.",
    SSE_LAST_EVENT_ID,
)

ID_ACROSS_CONNECTIONS = case(
    "resume-last-id",
    b"retry: 100\nid: 1\ndata: a\n\ndata: b\n\n",
    expected=[message("a", last_event_id="1"), message("b", last_event_id="1")],
    then=[Reply((b"data: c\n\n",)), Reply((b"id: 2\ndata: d\n\n",))],
    reconnections=[Reconnection(100, "1"), Reconnection(100, "1"), Reconnection(100, "2")],
)
ID_RESET_BEFORE_END = case(
    "resume-after-empty-id",
    b"retry: 100\nid: 1\ndata: a\n\nid\ndata: b\n\n",
    expected=[message("a", last_event_id="1"), message("b")],
    reconnections=[Reconnection(100, None)],
)
ID_OF_CUT_EVENT = case(
    "resume-not-from-cut-event",
    b"retry: 100\nid: 1\ndata: a\n\nid: 2\ndata: b\n",
    expected=[message("a", last_event_id="1")],
    dropped=True,
    reconnections=[Reconnection(100, "1")],
)


async def expect_resumes(sse_client: ClientUnderTest, replayed: Case) -> None:
    """Each request carries the Last-Event-ID the case says (none on the first)."""
    transcript = await reconnection(sse_client, replayed)
    plan = replayed.reconnections or ()
    if len(transcript.requests) < 1 + len(plan):
        not_observable(
            f"{transcript.client or 'the client'} made {len(transcript.requests)} requests, "
            f"fewer than the {1 + len(plan)} the case needs (SSE-CLIENT-14 judges that)"
        )
    expect(
        [request.last_event_id for request in transcript.requests[: 1 + len(plan)]],
        [None, *(request.last_event_id for request in plan)],
        f"the Last-Event-ID of each request of {transcript.client or 'the client'} "
        f"(None: no header) after {replayed.body!r}",
    )


@RESUMES.check
@replays(ID_ACROSS_CONNECTIONS)
async def check_resumes_from_the_last_id(sse_client: ClientUnderTest) -> None:
    """``1`` after an event without an id that followed id 1, and again after a response
    with no id at all; then ``2``, from the third: never the empty id of the latest event,
    nor the id the client sent the first time."""
    await expect_resumes(sse_client, ID_ACROSS_CONNECTIONS)


@RESUMES.check
@replays(ID_RESET_BEFORE_END)
async def check_empty_id_sends_no_header(sse_client: ClientUnderTest) -> None:
    """``id`` with no value resets the last event ID string, and an empty one is not sent."""
    await expect_resumes(sse_client, ID_RESET_BEFORE_END)


@RESUMES.check
@replays(ID_OF_CUT_EVENT)
async def check_id_of_a_cut_event_is_not_sent(sse_client: ClientUnderTest) -> None:
    """``id: 2`` in an event cut off by the connection's drop was never dispatched: the client
    resumes from 1 (the last event ID string changes when an event is dispatched, not when
    its id field is read)."""
    await expect_resumes(sse_client, ID_OF_CUT_EVENT)


STOPS = chapter.rule(
    "SSE-CLIENT-16",
    MUST,
    "A client that is answered 204 No Content, a status other than 200 or a Content-Type "
    "other than `text/event-stream` fails the connection and does not reconnect.",
    SSE_PROCESSING,
)

STOP_204 = case("stop-204", status=204, content_type=None, fails=True, reconnections=[])
STOP_500 = case("stop-500", b"data: a\n\n", status=500, fails=True, reconnections=[])
STOP_TYPE = case(
    "stop-content-type",
    b"data: a\n\n",
    content_type="text/plain; charset=utf-8",
    fails=True,
    reconnections=[],
)
STOP_ON_RECONNECTION = case(
    "stop-204-on-reconnection",
    b"retry: 100\ndata: a\n\n",
    expected=[message("a")],
    reconnections=[Reconnection(100)],
)


async def expect_stop(sse_client: ClientUnderTest, replayed: Case) -> None:
    transcript = await reconnection(sse_client, replayed)
    wanted = 1 + len(replayed.reconnections or ())
    if len(transcript.requests) < wanted:
        not_observable(
            f"{transcript.client or 'the client'} did not reconnect after the first response "
            "(SSE-CLIENT-14 judges that)"
        )
    reply = replayed.reply(wanted)
    expect_requests(
        transcript,
        wanted,
        f"the requests after a {reply.status} response with Content-Type {reply.content_type!r}",
    )


@STOPS.check
@replays(STOP_204)
async def check_no_reconnection_after_204(sse_client: ClientUnderTest) -> None:
    """A 204 to the first request: no second one (the server's way to say "stop")."""
    await expect_stop(sse_client, STOP_204)


@STOPS.check
@replays(STOP_ON_RECONNECTION)
async def check_no_reconnection_after_a_204_to_a_reconnection(
    sse_client: ClientUnderTest,
) -> None:
    """A stream that ends, a reconnection answered 204: no third request."""
    await expect_stop(sse_client, STOP_ON_RECONNECTION)


@STOPS.check
@replays(STOP_500)
async def check_no_reconnection_after_500(sse_client: ClientUnderTest) -> None:
    """A 500, even with an event stream for its body: no second request."""
    await expect_stop(sse_client, STOP_500)


@STOPS.check
@replays(STOP_TYPE)
async def check_no_reconnection_after_a_wrong_content_type(
    sse_client: ClientUnderTest,
) -> None:
    """A 200 of ``text/plain``: no second request."""
    await expect_stop(sse_client, STOP_TYPE)


NETWORK_ERROR = chapter.rule(
    "SSE-CLIENT-17",
    MUST,
    "A client reconnects when the connection drops before the response's end "
    "(a network error), as when the response ends cleanly.",
    SSE_REESTABLISH,
)

DROPPED = case(
    "reconnect-after-drop",
    b"retry: 100\nid: 1\ndata: a\n\n",
    expected=[message("a", last_event_id="1")],
    dropped=True,
    reconnections=[Reconnection(100, "1")],
)


@NETWORK_ERROR.check
@replays(DROPPED)
async def check_reconnects_after_a_dropped_connection(sse_client: ClientUnderTest) -> None:
    """The chunked body cut off after ``data: a`` (no last chunk): a second request comes."""
    transcript = await reconnection(sse_client, DROPPED)
    expect_requests(transcript, 2, "the requests after a connection dropped mid-body", more=True)


CASES = [value for value in list(globals().values()) if isinstance(value, Case)]
"""Every case of the chapter (a test checks each against the oracle decoder)."""
