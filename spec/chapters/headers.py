"""Headers, transfer and intermediaries

What a stream says about itself, how it is framed, and what survives the way.

A stream's bytes can be perfect and still reach nobody in time. The headers
decide what the path does with them: a `Content-Length` makes a client wait
for a length that never comes, a cacheable event stream is replayed to the
next visitor, a proxy that was not told otherwise collects the stream into a
buffer and hands it on in lumps, a browser sniffing a `text/plain` body waits
for its first kilobyte before showing a line. This chapter states what each
kind of stream must say, how it must be framed on the wire, and checks that it
reaches the client item by item through the components that usually sit in
front of a Python app.

How the checks see it:

* **Headers** are read at the ASGI message level and over a real socket
  (the `stream_client` transports).
* **Framing** is read as raw bytes: the suite writes the request itself
  (HTTP/1.1 and HTTP/1.0) and parses the answer with h11.
* **Item by item** is shown with a *gated* stream (`GET /conformance/sse` and
  `/conformance/text` with `gate=NAME&gate_first=true`, see the chapter
  "Conformance surface"): the target produces item *i* only after the
  suite's opening *i* of the gate, and the suite opens it once more only once
  item *i* has reached it, decoded. Anything that holds bytes back makes a
  step wait; after a few seconds (a hang guard, not a measurement) the check
  fails naming the item that did not arrive. Before the first opening the
  stream is held before its first item: that is how the suite sees that the
  headers leave first. Under ASGI that is the app's doing: a server may hold
  the head until the first body message (the ASGI spec says it must not
  start the response before one; granian waits, uvicorn sends the head at
  `http.response.start`), so an app whose first item may take a while sends
  an empty body message (`more_body` true) right after the head, as the
  reference does.
* **Intermediaries** are real: Starlette's `GZipMiddleware` and a stack of
  three `BaseHTTPMiddleware` are wrapped around the target (both transports),
  and Debian's nginx is started on a loopback port in front of the target's
  uvicorn, with the configuration kept in `spec/intermediaries/nginx/`. Where
  nginx is not installed, its rules are reported *not observable*, with the
  reason, never passed.

## nginx and `X-Accel-Buffering`

With its defaults (`proxy_buffering on`), nginx reads a proxied response into
buffers and passes it on when they fill or the response ends. A stream that
sends `X-Accel-Buffering: no` switches that off for itself. The suite's tests
show both halves: the reference stream steps through nginx's default location
event by event, and the same stream through a location that ignores the header
(`proxy_ignore_headers X-Accel-Buffering`) is held back: not even its headers
arrive while the producer waits.

The streaming tutorial's nginx settings ([the sources](#sources)) are shipped as
`spec/intermediaries/nginx/sse-location.conf`, to include in the location
that proxies a stream:

```nginx
location /events {
    proxy_pass http://app;
    include sse-location.conf;   # proxy_http_version 1.1; proxy_set_header Connection '';
                                 # proxy_buffering off; proxy_cache off;
                                 # chunked_transfer_encoding on;
}
```

## Timeouts on the way

Proxies and load balancers close a connection on which nothing has arrived
for longer than their read or idle timeout: 60 seconds by default for nginx
(`proxy_read_timeout`) and for AWS's Application Load Balancer, often less
elsewhere. A stream that waits longer than that between two events loses its
connection (the browser then reconnects, and resumes if it has an id). A
comment line, `: keep-alive` and a blank line, every 15 to 30 seconds keeps
the connection busy without dispatching anything: WHATWG HTML's authoring notes
suggest one every 15 seconds or so. The cancellation chapter checks that an
idle stream sends one at least once per interval (`CANCEL-KEEPALIVE-01`), and
nothing at all when keep-alive is off (`CANCEL-KEEPALIVE-02`).

## Putting any chapter behind an intermediary

`spec.intermediaries.asgi.behind(app, via)` wraps an app in the component
named by `via` (`"gzip"` or `"basehttp"`), and
`spec.intermediaries.nginx.running_nginx(url)` runs nginx in front of a
served app. This chapter parametrizes its own intermediary checks; a chapter
that needs one (disconnect cleanup behind `BaseHTTPMiddleware`, in the
cancellation chapter) uses the same two helpers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

from spec.capabilities import Capabilities, requires
from spec.intermediaries.asgi import behind, untraced
from spec.intermediaries.nginx import (
    DEFAULT_LOCATION,
    DOCUMENTED_LOCATION,
    NginxUnavailable,
    running_nginx,
)
from spec.media import EVENT_STREAM, essence, parameters
from spec.patience import guarded
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
from spec.sources import CHUNKED
from spec.sse import Decoder, Event, encode
from spec.sse.model import Observed, expected_observation
from spec.stepping import fetch_gated, open_stepped, step_chunks, step_events
from spec.streams import Fetched, fetch, served
from spec.surface import SSE_PATH, TEXT_PATH, sse_params, text_params
from spec.surface_hdr import SSE_STOP_PATH, headers_params
from spec.targets import harness
from spec.targets.client import AsgiClient, SocketClient, StreamClient, speaks_http2
from spec.targets.server import serve
from spec.targets.target import Target
from spec.wire import read_whole

chapter = Chapter(__name__)

_WHATWG = "https://html.spec.whatwg.org/multipage"
SSE_MIME = Source(
    "WHATWG HTML",
    "IANA considerations: text/event-stream",
    f"{_WHATWG}/iana.html#text/event-stream",
)
SSE_PROCESSING = Source(
    "WHATWG HTML",
    "9.2.3 Processing model",
    f"{_WHATWG}/server-sent-events.html#sse-processing-model",
)
SSE_AUTHORING = Source(
    "WHATWG HTML", "9.2.7 Authoring notes", f"{_WHATWG}/server-sent-events.html#authoring-notes"
)
NO_CACHE = Source(
    "RFC 9111",
    "5.2.2.4 no-cache, 5.2.2.5 no-store",
    "https://www.rfc-editor.org/rfc/rfc9111#section-5.2.2.4",
)
NGINX_BUFFERING = Source(
    "nginx documentation",
    "ngx_http_proxy_module, proxy_buffering",
    "https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_buffering",
)
MESSAGE_BODY_LENGTH = Source(
    "RFC 9112", "6.3 Message Body Length", "https://www.rfc-editor.org/rfc/rfc9112#section-6.3"
)
TRANSFER_ENCODING = Source(
    "RFC 9112", "6.1 Transfer-Encoding", "https://www.rfc-editor.org/rfc/rfc9112#section-6.1"
)
CONTENT_CODING = Source(
    "RFC 9110", "8.4 Content-Encoding", "https://www.rfc-editor.org/rfc/rfc9110#section-8.4"
)
FIELD_VALUES = Source(
    "RFC 9110", "5.5 Field Values", "https://www.rfc-editor.org/rfc/rfc9110#section-5.5"
)
TEXT_PLAIN = Source(
    "RFC 2046", "4.1.2 Charset Parameter", "https://www.rfc-editor.org/rfc/rfc2046#section-4.1.2"
)
NOSNIFF = Source(
    "WHATWG Fetch",
    "X-Content-Type-Options header",
    "https://fetch.spec.whatwg.org/#x-content-type-options-header",
)
FIELD_NAMES = Source(
    "RFC 9110", "5.1 Field Names", "https://www.rfc-editor.org/rfc/rfc9110#section-5.1"
)
GZIP_MIDDLEWARE = Source(
    "Starlette documentation",
    "GZipMiddleware",
    "https://www.starlette.io/middleware/#gzipmiddleware",
)
BASEHTTP_MIDDLEWARE = Source(
    "Starlette documentation",
    "BaseHTTPMiddleware",
    "https://www.starlette.io/middleware/#basehttpmiddleware",
)

EVENTS = [Event("first", id="1"), Event('{"n": 2}', event="update", id="2"), Event("last")]
CHUNKS = ["first line\n", "例子 ✓ second line\n", "last line\n" * 40]
ACCEPT_GZIP = [("accept-encoding", "gzip, deflate")]
CUSTOM_HEADERS = {"X-Stream-Id": "6f1c2b0e-stream-42", "X-Trace": "a b;c=d"}


# -- helpers -------------------------------------------------------------------------------


def _first(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    return next((value for key, value in headers if key == name), None)


async def _streams(
    client: StreamClient, kind: str, capabilities: Capabilities
) -> list[tuple[str, Fetched]]:
    """The stream of *kind* read whole, plain, then, where the target offers gates and
    custom headers, as the stepping checks ask for it (gated before its first item,
    with custom headers), each with what it was."""
    path, items = (SSE_PATH, EVENTS) if kind == "sse" else (TEXT_PATH, CHUNKS)
    params = sse_params(EVENTS) if kind == "sse" else text_params(CHUNKS)
    streams = [(path, await fetch(client, "GET", path, params=params))]
    if capabilities.offers("gates") and capabilities.offers("headers"):
        gated = await fetch_gated(client, kind, items, custom_headers=CUSTOM_HEADERS)
        streams.append((f"{path} (gated)", gated))
    return streams


def _encoded_events() -> bytes:
    return b"".join(encode(event) for event in EVENTS)


def _cases(capabilities: Capabilities) -> list[tuple[str, list[tuple[str, str]]]]:
    """The finite streams the target offers: the event stream and the text stream."""
    cases = []
    if capabilities.offers("sse"):
        cases.append((SSE_PATH, sse_params(EVENTS)))
    if capabilities.offers("text"):
        cases.append((TEXT_PATH, text_params(CHUNKS)))
    return cases


def _expect_whole_stream(path: str, body: bytes, what: str) -> None:
    """*body* is the whole stream asked of *path*: the same events, or the same text.

    Events are compared as a client dispatches them, not byte for byte: a server
    may write the fields of an event in another order, or with other line ends.
    """
    if path == SSE_PATH:
        decoder = Decoder()
        seen = Observed.of([*decoder.feed(body), *decoder.close()]).events
        expect(seen, expected_observation(EVENTS).events, f"the events of {what}")
    else:
        expect(body, "".join(CHUNKS).encode(), what)


# -- fixtures: the target behind each intermediary ----------------------------------------


@pytest.fixture(scope="session", params=["asgi", "socket"])
def gzip_client(request: pytest.FixtureRequest, target: Target) -> Iterator[StreamClient]:
    """The target behind Starlette's GZipMiddleware (defaults), over each transport."""
    yield from _behind_client(request.param, target, "gzip")


@pytest.fixture(scope="session", params=["asgi", "socket"])
def basehttp_client(request: pytest.FixtureRequest, target: Target) -> Iterator[StreamClient]:
    """The target behind three stacked BaseHTTPMiddleware, over each transport."""
    yield from _behind_client(request.param, target, "basehttp")


def _behind_client(transport: str, target: Target, via: str) -> Iterator[StreamClient]:
    app = behind(target.app, "gzip" if via == "gzip" else "basehttp")
    if transport == "asgi":
        yield AsgiClient(app, prefix=target.prefix)
        return
    with serve(untraced(app), server=target.server) as url:
        yield SocketClient(url + target.prefix)


@pytest.fixture(scope="session")
def nginx_url(live_url: str) -> Iterator[str]:
    """Debian's nginx on a loopback port in front of the served target.

    Where nginx is missing or will not start, every check using it is not observable;
    over HTTP/2 (``--http=2``) every check using it is not applicable.
    """
    if speaks_http2():
        not_applicable(
            "nginx proxies to its upstream over HTTP/1.x only (proxy_http_version), and its "
            "configuration here listens for HTTP/1.1: the path through nginx is HTTP/1.1 "
            "whatever --http says (run these rules with --http=1.1)"
        )
    try:
        with running_nginx(live_url) as url:
            yield url
    except NginxUnavailable as error:
        not_observable(str(error))


# -- SSE headers ---------------------------------------------------------------------------

SSE_TYPE = chapter.rule(
    "HDR-SSE-01",
    MUST,
    "An event stream is served with Content-Type text/event-stream, and a charset "
    "parameter, if present, is utf-8.",
    SSE_MIME,
    why="An `EventSource` fails the connection for any other type (SSE-CLIENT-12), and Chromium "
    "also aborts it when the charset names anything but UTF-8 (the README's client matrix), "
    "where the algorithm would decode the stream as UTF-8 anyway.",
)


@requires("sse")
@SSE_TYPE.check
async def check_sse_content_type(stream_client: StreamClient, capabilities: Capabilities) -> None:
    """The media type is text/event-stream; any charset parameter names UTF-8."""
    for path, fetched in await _streams(stream_client, "sse", capabilities):
        content_type = fetched.header("content-type")
        expect(essence(content_type), EVENT_STREAM, f"media type of {path}")
        charset = parameters(content_type).get("charset")
        if charset is not None:
            expect(charset.lower(), "utf-8", f"charset parameter of {path}")


SSE_CACHE = chapter.rule(
    "HDR-SSE-02",
    SHOULD,
    "An event stream carries Cache-Control with no-cache or no-store, so no cache replays it.",
    NO_CACHE,
    why="RFC 9111 defines the directives, and nothing obliges an event stream to send "
    "them; but without them a cache on the way may store the stream (a 200 is heuristically "
    "cacheable, RFC 9111 §3 and §4.2.2) and replay its old events to a new client as if "
    "they were live.",
    beyond_source=True,
)


@requires("sse")
@SSE_CACHE.check
async def check_sse_cache_control(stream_client: StreamClient, capabilities: Capabilities) -> None:
    """Cache-Control lists no-cache or no-store among its directives."""
    for path, fetched in await _streams(stream_client, "sse", capabilities):
        values = [v for k, v in fetched.headers if k == "cache-control"]
        directives = {d.split("=")[0].strip().lower() for v in values for d in v.split(",")}
        if not directives & {"no-cache", "no-store"}:
            violation(f"Cache-Control of {path}", "no-cache or no-store", values)


SSE_ACCEL = chapter.rule(
    "HDR-SSE-03",
    SHOULD,
    "An event stream carries X-Accel-Buffering: no, so nginx passes it on unbuffered.",
    NGINX_BUFFERING,
    why="nginx's documentation describes the header, and no standard names it; but nginx, "
    "the most common proxy in front of Python apps, buffers proxied responses by default, "
    "so an event stream behind it arrives in bursts unless the location or the response "
    "turns buffering off. The header is the response's way, and other servers ignore it.",
    beyond_source=True,
)


@requires("sse")
@SSE_ACCEL.check
async def check_sse_x_accel_buffering(
    stream_client: StreamClient, capabilities: Capabilities
) -> None:
    """X-Accel-Buffering is present and says no."""
    for path, fetched in await _streams(stream_client, "sse", capabilities):
        value = fetched.header("x-accel-buffering")
        expect((value or "").strip().lower(), "no", f"X-Accel-Buffering of {path}")


SSE_LENGTH = chapter.rule(
    "HDR-SSE-04",
    SHOULD,
    "An event stream has no Content-Length: its length is not known when it starts.",
    MESSAGE_BODY_LENGTH,
    why="RFC 9112 allows any body to be delimited by Content-Length; but a stream's "
    "events are made as it goes, so a length given at the start is a guess that an endless "
    "or growing stream breaks (the body is cut at the length, or the connection fails "
    "past it), and some proxies buffer a sized body whole.",
    beyond_source=True,
)


@requires("sse")
@SSE_LENGTH.check
async def check_sse_has_no_content_length(
    stream_client: StreamClient, capabilities: Capabilities
) -> None:
    """No Content-Length header on the event stream."""
    for path, fetched in await _streams(stream_client, "sse", capabilities):
        expect(fetched.header("content-length"), None, f"Content-Length of {path}")


SSE_CODING = chapter.rule(
    "HDR-SSE-05",
    MUST,
    "An event stream has no Content-Encoding unless every event is flushed on its own, "
    "so each can be decoded as it arrives.",
    CONTENT_CODING,
    why="RFC 9110 defines content codings and says nothing of when a compressor must flush; "
    "streamspec asks it of an event stream because a compressor keeps what it is given "
    "until it has enough to compress well (zlib's `compress()` returns nothing for small "
    "inputs), so a compressed event stream that is not flushed after each event reaches the "
    "client in lumps, each event as late as the ones after it. Starlette's `GZipMiddleware` "
    "flushes each body message (`Z_SYNC_FLUSH`) and leaves `text/event-stream` alone.",
    beyond_source=True,
)


@requires("sse", "gates", "headers")
@SSE_CODING.check
async def check_sse_coding_flushes_each_event(stream_client: StreamClient) -> None:
    """Asked with Accept-Encoding: gzip, a compressed stream still steps event by event."""
    async with open_stepped(stream_client, "sse", EVENTS, request_headers=ACCEPT_GZIP) as stream:
        coding = (stream.header("content-encoding") or "identity").strip().lower()
        if coding == "identity":
            return
        await step_events(stream, EVENTS)


SSE_STATUS = chapter.rule(
    "HDR-SSE-06",
    MUST,
    "An event stream is answered with status 200: an EventSource fails the connection "
    "on any other.",
    SSE_PROCESSING,
)


@requires("sse")
@SSE_STATUS.check
async def check_sse_status_200(stream_client: StreamClient, capabilities: Capabilities) -> None:
    """The event stream's status is 200 (not 201, 203 or 206)."""
    for path, fetched in await _streams(stream_client, "sse", capabilities):
        expect(fetched.status, 200, f"status of {path}")


SSE_STOP = chapter.rule(
    "HDR-SSE-07",
    SHOULD,
    "A stream that is over for good answers a reconnecting client with 204 No Content "
    "and no body, which tells an EventSource to stop reconnecting.",
    SSE_AUTHORING,
    why="An `EventSource` reconnects whenever a response ends: without a 204, a stream that is "
    "over is asked for again every few seconds for as long as the page is open, and each "
    "time the server answers with its end again.",
)


@requires("stop")
@SSE_STOP.check
async def check_stop_is_204(stream_client: StreamClient) -> None:
    """GET /conformance/sse/stop answers 204 with an empty body."""
    fetched = await fetch(stream_client, "GET", SSE_STOP_PATH)
    expect(fetched.status, 204, "status of GET /conformance/sse/stop")
    expect(fetched.body, b"", "body of the 204 answer")


# -- text stream headers -------------------------------------------------------------------

TEXT_TYPE = chapter.rule(
    "HDR-TEXT-01",
    MUST,
    "A text stream is served as text/plain with charset=utf-8 stated (text/plain "
    "without a charset means US-ASCII).",
    TEXT_PLAIN,
    why="Without the charset a client decodes the UTF-8 as something else: Python's `requests` "
    "takes `text/plain` without one as ISO-8859-1, RFC 2616's old default, and shows `é` as "
    "`Ã©`.",
)


@requires("text")
@TEXT_TYPE.check
async def check_text_content_type(stream_client: StreamClient, capabilities: Capabilities) -> None:
    """The media type is text/plain and its charset parameter is utf-8."""
    for path, fetched in await _streams(stream_client, "text", capabilities):
        content_type = fetched.header("content-type")
        expect(essence(content_type), "text/plain", f"media type of {path}")
        charset = parameters(content_type).get("charset") or ""
        expect(charset.lower(), "utf-8", f"charset of {path}")


TEXT_NOSNIFF = chapter.rule(
    "HDR-TEXT-02",
    SHOULD,
    "A text stream carries X-Content-Type-Options: nosniff, so a browser neither "
    "sniffs it nor waits for bytes to sniff.",
    NOSNIFF,
)


@requires("text")
@TEXT_NOSNIFF.check
async def check_text_nosniff(stream_client: StreamClient, capabilities: Capabilities) -> None:
    """X-Content-Type-Options is nosniff."""
    for path, fetched in await _streams(stream_client, "text", capabilities):
        value = fetched.header("x-content-type-options")
        expect((value or "").strip().lower(), "nosniff", f"X-Content-Type-Options of {path}")


CUSTOM = chapter.rule(
    "HDR-TEXT-03",
    MUST,
    "A custom header the application sets on a stream, such as X-Stream-Id, reaches "
    "the client unchanged.",
    FIELD_NAMES,
)


async def _assert_custom_header_kept(client: StreamClient, kind: str, prefix: str = "") -> None:
    """A gated stream of *kind* asked with custom headers keeps them and steps item by item."""
    wanted = CUSTOM_HEADERS
    items: list[Event] | list[str] = EVENTS if kind == "sse" else CHUNKS
    async with open_stepped(
        client, kind, items, custom_headers=wanted, path_prefix=prefix
    ) as stream:
        expect(stream.response.status, 200, f"status of the gated {kind} stream")
        for name, value in wanted.items():
            expect(stream.header(name), value, f"{name} of the {kind} stream")
        if kind == "sse":
            await step_events(stream, EVENTS)
        else:
            await step_chunks(stream, CHUNKS)


@requires("text", "headers")
@CUSTOM.check
async def check_custom_header_on_text_stream(stream_client: StreamClient) -> None:
    """X-Stream-Id and X-Trace asked for on a text stream come back byte for byte."""
    await _assert_custom_header_kept(stream_client, "text")


@requires("sse", "headers")
@CUSTOM.check
async def check_custom_header_on_event_stream(stream_client: StreamClient) -> None:
    """The same on an event stream."""
    await _assert_custom_header_kept(stream_client, "sse")


INJECTION = chapter.rule(
    "HDR-INPUT-01",
    MUST,
    "No response header carries CR, LF or NUL taken from request input: a request "
    "that would put one there is refused with a 4xx.",
    FIELD_VALUES,
    why="A CR LF taken from the request into a header splits the response: whoever wrote the "
    "request adds headers of their own (`Set-Cookie`), or a whole second response, which a "
    "cache on the way may store and serve to other users (response splitting).",
)


@requires("gates", "headers")
@INJECTION.check
async def check_no_crlf_from_input_in_headers(
    stream_client: StreamClient, capabilities: Capabilities
) -> None:
    """A custom header value holding CRLF, LF, CR or NUL is refused with a 4xx, never echoed,
    on each stream the target serves (SSE, text), each first shown to serve a clean value."""
    clean = headers_params({"X-Stream-Id": "clean"})
    why = "its refusals of other values would say nothing"
    kinds = [kind for kind in ("text", "sse") if capabilities.offers(kind)]
    controls = {
        "text": (TEXT_PATH, text_params(CHUNKS)),
        "sse": (SSE_PATH, sse_params(EVENTS)),
    }
    for kind in kinds:
        path, params = controls[kind]
        await served(stream_client, "GET", path, params=[*params, *clean], why=why)
    for value in ("a\r\nSet-Cookie: injected=1", "a\nX-Injected: 1", "a\rb", "a\x00b"):
        for kind in kinds:
            items: list[Event] | list[str] = EVENTS if kind == "sse" else CHUNKS
            async with open_stepped(
                stream_client, kind, items, custom_headers={"X-Stream-Id": value}
            ) as stream:
                status, headers = stream.response.status, stream.response.headers
            carried = [(k, v) for k, v in headers if any(c in k + v for c in "\r\n\x00")]
            if carried or _first(headers, "set-cookie") or _first(headers, "x-injected"):
                violation(f"headers answering X-Stream-Id={value!r}", "nothing injected", headers)
            if not 400 <= status < 500:
                violation(f"status answering X-Stream-Id={value!r} ({kind})", "a 4xx", status)


# -- transfer ------------------------------------------------------------------------------

FRAMING = chapter.rule(
    "HDR-XFER-01",
    MUST,
    "Over HTTP/1.1 a stream is sent with valid chunked framing, and a finite stream "
    "ends with the last chunk.",
    CHUNKED,
)


@FRAMING.check
async def check_chunked_framing_on_the_wire(live_url: str, capabilities: Capabilities) -> None:
    """Raw bytes of an event stream and a text stream: chunked, valid to h11, ending 0 CRLF CRLF."""
    for path, params in _cases(capabilities):
        response = await read_whole(live_url, "GET", path, params)
        coding = (response.header("transfer-encoding") or "").split(",")[-1].strip().lower()
        expect(coding, "chunked", f"the final transfer coding of {path}")
        expect(response.complete, True, f"{path} ended with its last chunk")
        expect(response.raw.endswith(b"0\r\n\r\n"), True, f"{path} ends with 0 CRLF CRLF")
        _expect_whole_stream(path, response.body, f"the body of {path}")


@FRAMING.check
async def check_final_body_message(target: Target, capabilities: Capabilities) -> None:
    """At the message level, a finite stream ends with a body message whose more_body is false."""
    for path, params in _cases(capabilities):
        async with harness.exchange(
            target.app, harness.build_scope("GET", path, params=params, prefix=target.prefix)
        ) as ex:
            with guarded(f"the end of the app's call serving the finite stream {path}", 10):
                await ex.app_done.wait()
        if ex.app_error is not None:
            violation(f"the app serving {path}", "returns normally", repr(ex.app_error))
        if not ex.body_messages:
            violation(f"the body messages of {path}", "at least one", "none")
        last = ex.body_messages[-1]
        expect(bool(last.get("more_body", False)), False, f"more_body of {path}'s last message")


HTTP10 = chapter.rule(
    "HDR-XFER-02",
    MUST,
    "An HTTP/1.0 request gets the stream as a close-delimited body: no chunked coding, "
    "no Content-Length, the whole stream before the connection closes.",
    TRANSFER_ENCODING,
    why="An HTTP/1.0 client does not know the chunked coding, and RFC 9112 §6.1 forbids sending "
    "it one: it would take the chunk sizes for part of the body. nginx speaks HTTP/1.0 to "
    "the app it proxies unless told `proxy_http_version 1.1`, as the tutorial's location "
    "block does.",
)


@HTTP10.check
async def check_http10_close_delimited(live_url: str, capabilities: Capabilities) -> None:
    """Raw HTTP/1.0 requests for an event and a text stream: no Transfer-Encoding, no
    Content-Length, every byte, then close."""
    for path, params in _cases(capabilities):
        response = await read_whole(live_url, "GET", path, params, http_version="1.0")
        expect(response.status, 200, f"status of the HTTP/1.0 answer for {path}")
        expect(response.header("transfer-encoding"), None, f"Transfer-Encoding of {path}, 1.0")
        expect(response.header("content-length"), None, f"Content-Length of {path}, 1.0")
        _expect_whole_stream(path, response.body, f"the close-delimited body of {path}")


@requires("sse")
@HTTP10.check
async def check_http10_at_message_level(target: Target) -> None:
    """An HTTP/1.0 scope gets the whole stream, ended, and no framing header set by the app."""
    scope = harness.build_scope(
        "GET", SSE_PATH, params=sse_params(EVENTS), http_version="1.0", prefix=target.prefix
    )
    async with harness.exchange(target.app, scope) as ex:
        with guarded("the end of the app's call answering an HTTP/1.0 scope", 10):
            await ex.app_done.wait()
    expect(ex.status, 200, "status answering an HTTP/1.0 scope")
    for name in ("transfer-encoding", "content-length"):
        expect(_first(ex.headers, name), None, f"{name} set by the app for HTTP/1.0")
    _expect_whole_stream(SSE_PATH, ex.body, "the body answering an HTTP/1.0 scope")
    last = ex.body_messages[-1] if ex.body_messages else {"more_body": True}
    expect(bool(last.get("more_body", False)), False, "more_body of the last message")


HEADERS_FIRST = chapter.rule(
    "HDR-XFER-03",
    MUST,
    "The status and headers are sent before the producer's first item is ready, so "
    "the client knows the stream is open (an EventSource fires open).",
    SSE_PROCESSING,
    why="WHATWG HTML says that an `EventSource` fires `open` when the headers arrive, not when "
    "a server must send them; streamspec asks for them before the first item because until "
    "then the page shows its stream as connecting, and a proxy's read timeout runs "
    "(CHUNK-FLOW-02). Under ASGI a server may hold the head until a body message (granian "
    "does), so an app whose first item may take a while sends an empty one.",
    beyond_source=True,
)


@requires("sse", "gates")
@HEADERS_FIRST.check
async def check_headers_before_first_event(stream_client: StreamClient) -> None:
    """A gated event stream held before its first event has already sent status 200."""
    async with open_stepped(stream_client, "sse", EVENTS) as stream:
        expect(stream.response.status, 200, "status sent before the first event")
        await step_events(stream, EVENTS)


@requires("text", "gates")
@HEADERS_FIRST.check
async def check_headers_before_first_chunk(stream_client: StreamClient) -> None:
    """A gated text stream held before its first chunk has already sent status 200."""
    async with open_stepped(stream_client, "text", CHUNKS) as stream:
        expect(stream.response.status, 200, "status sent before the first chunk")
        await step_chunks(stream, CHUNKS)


# -- intermediaries ------------------------------------------------------------------------

GZIP_SSE = chapter.rule(
    "HDR-GZIP-01",
    MUST,
    "Behind Starlette's GZipMiddleware an event stream is sent uncompressed and "
    "reaches the client event by event.",
    GZIP_MIDDLEWARE,
    why="Starlette's documentation describes the middleware, not what a stream behind it must "
    "do; streamspec asks it because apps add `GZipMiddleware` once, for every route, and it "
    "recognises an event stream only by its Content-Type (`text/event-stream` is among its "
    "`DEFAULT_EXCLUDED_CONTENT_TYPES`): a stream labelled otherwise is compressed "
    "(HDR-SSE-05).",
    beyond_source=True,
)


@requires("sse", "gates", "headers")
@GZIP_SSE.check
async def check_sse_behind_gzip(gzip_client: StreamClient) -> None:
    """Accept-Encoding: gzip; the stream has no Content-Encoding and steps event by event."""
    async with open_stepped(gzip_client, "sse", EVENTS, request_headers=ACCEPT_GZIP) as stream:
        expect(stream.header("content-encoding"), None, "Content-Encoding behind GZipMiddleware")
        await step_events(stream, EVENTS)


GZIP_TEXT = chapter.rule(
    "HDR-GZIP-02",
    MUST,
    "Behind Starlette's GZipMiddleware a compressed text stream still delivers each "
    "chunk decodable at the client before the next one is produced.",
    GZIP_MIDDLEWARE,
    why="Starlette's documentation describes the middleware, not what a stream behind it must "
    "do; streamspec asks it because apps add `GZipMiddleware` once, for every route. It "
    "holds the head until the first body message, to decide on compression, then flushes "
    "after each message (`Z_SYNC_FLUSH`), so a text stream reaches the client chunk by "
    "chunk through it only if each chunk leaves as its own message (CHUNK-MSG-01).",
    beyond_source=True,
)


@requires("text", "gates", "headers")
@GZIP_TEXT.check
async def check_text_behind_gzip(gzip_client: StreamClient) -> None:
    """Accept-Encoding: gzip; each chunk decompresses at the client before the next is made.

    GZipMiddleware sends the headers with the first body bytes (it decides on
    compression then), so the first chunk is let go before the request.
    """
    async with open_stepped(
        gzip_client, "text", CHUNKS, request_headers=ACCEPT_GZIP, first_item_ready=True
    ) as stream:
        if (stream.header("content-encoding") or "identity").lower() == "identity":
            not_applicable("GZipMiddleware left this target's text stream uncompressed")
        await step_chunks(stream, CHUNKS)


BASEHTTP = chapter.rule(
    "HDR-BASEHTTP-01",
    MUST,
    "Behind stacked BaseHTTPMiddleware a stream still reaches the client item by item, "
    "its headers unchanged.",
    BASEHTTP_MIDDLEWARE,
    why="Starlette's documentation describes the middleware, not what a stream behind it must "
    'do; streamspec asks it because FastAPI\'s `@app.middleware("http")` is a '
    "`BaseHTTPMiddleware`, so an app with such a middleware streams through one. It "
    "re-streams the app's response through `call_next` and drops its empty body messages: "
    "on a server that holds the head until a body message (granian), the head an app sends "
    "early waits there for the first item (the README's server matrix).",
    beyond_source=True,
)


@requires("sse", "headers")
@BASEHTTP.check
async def check_sse_behind_basehttp(basehttp_client: StreamClient) -> None:
    """Three BaseHTTPMiddleware in front: events step one by one, X-Stream-Id kept."""
    await _assert_custom_header_kept(basehttp_client, "sse")


@requires("text", "headers")
@BASEHTTP.check
async def check_text_behind_basehttp(basehttp_client: StreamClient) -> None:
    """Three BaseHTTPMiddleware in front: text chunks step one by one, X-Stream-Id kept."""
    await _assert_custom_header_kept(basehttp_client, "text")


BASEHTTP_DISCONNECT = chapter.rule(
    "HDR-BASEHTTP-02",
    MUST,
    "Behind stacked BaseHTTPMiddleware a stream still ends when its client disconnects.",
    BASEHTTP_MIDDLEWARE,
    why="Starlette's documentation describes the middleware, not what a stream behind it must "
    'do; streamspec asks it because FastAPI\'s `@app.middleware("http")` is a '
    "`BaseHTTPMiddleware`, which runs the app in a task group of its own: the client's "
    "disconnect must get through it to the stream, or the producer outlives its client "
    "(CANCEL-CLEANUP-01).",
    beyond_source=True,
)


@requires("sse", "gates")
@BASEHTTP_DISCONNECT.check
async def check_stream_ends_on_disconnect_behind_basehttp(target: Target) -> None:
    """A gated stream behind three layers, left waiting, returns once the client has gone.

    This sees the app's call end; that the producer's own cleanup ran is the
    cancellation chapter's to show (hook: ``behind(app, "basehttp")``).
    """
    app = behind(target.app, "basehttp")
    async with open_stepped(AsgiClient(app, prefix=target.prefix), "sse", EVENTS) as stream:
        expect(stream.response.status, 200, "status behind BaseHTTPMiddleware")
    # open_stepped's exit disconnected the client; the harness fails if the app outlives it.


NGINX_DEFAULT = chapter.rule(
    "HDR-NGINX-01",
    MUST,
    "Behind nginx with its default proxy_buffering on, an event stream reaches the "
    "client event by event.",
    NGINX_BUFFERING,
    why="nginx's documentation describes its buffering, not what an app behind it must do; "
    "streamspec asks it because nginx, with its defaults (`proxy_buffering on`), holds a "
    "proxied response in its buffers, and an event stream gets through event by event only "
    "if it says so itself (HDR-SSE-03).",
    beyond_source=True,
)


@requires("sse", "gates", "headers")
@NGINX_DEFAULT.check
async def check_sse_behind_nginx_defaults(nginx_url: str) -> None:
    """Through nginx's default location, the gated events step one by one, X-Stream-Id kept."""
    await _assert_custom_header_kept(SocketClient(nginx_url), "sse", DEFAULT_LOCATION)


NGINX_DOCUMENTED = chapter.rule(
    "HDR-NGINX-02",
    MUST,
    "Behind nginx with the streaming tutorial's location block (proxy_buffering off, "
    "proxy_cache off, Connection '', chunked), an event stream reaches the client "
    "event by event.",
    NGINX_BUFFERING,
    why="nginx's documentation describes these directives, not what an app behind them must do; "
    "streamspec asks it because this is the location the streaming tutorial gives its "
    "readers for a stream (shipped as `sse-location.conf`), and a stream must get through "
    "it as it does through nginx's defaults.",
    beyond_source=True,
)


@requires("sse", "gates", "headers")
@NGINX_DOCUMENTED.check
async def check_sse_behind_documented_location(nginx_url: str) -> None:
    """Through the location built from sse-location.conf, the gated events step one by one."""
    await _assert_custom_header_kept(SocketClient(nginx_url), "sse", DOCUMENTED_LOCATION)


@requires("text", "headers")
@NGINX_DOCUMENTED.check
async def check_text_behind_documented_location(nginx_url: str) -> None:
    """The same block passes a text stream on chunk by chunk, though it does not say
    X-Accel-Buffering: the block alone turns nginx's buffering off."""
    await _assert_custom_header_kept(SocketClient(nginx_url), "text", DOCUMENTED_LOCATION)
